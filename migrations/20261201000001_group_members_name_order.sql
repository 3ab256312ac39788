-- A group's members in name order, straight from an index: the Team page
-- filtered to a small group used to walk every member in name order and
-- keep the group's (thousands of rows for 50 at a million members). The
-- member's name key is copied onto each group membership and kept current
-- by teamroom_refresh_members, which every change to a name or to group
-- membership already calls in the same transaction.
ALTER TABLE group_members ADD COLUMN sort_name text NOT NULL DEFAULT '';

CREATE OR REPLACE FUNCTION teamroom_refresh_members(ws bigint, ids bigint[]) RETURNS void
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    UPDATE memberships m
       SET sort_name = teamroom_fold(coalesce(m.display_name, a.display_name, m.invited_email)),
           sort_email = lower(coalesce(a.email, m.invited_email, '')),
           sort_groups = coalesce((SELECT teamroom_fold(string_agg(g.name, ', ' ORDER BY lower(g.name)))
                                     FROM group_members gm
                                     JOIN groups g ON g.workspace_id = gm.workspace_id AND g.id = gm.group_id
                                    WHERE gm.workspace_id = m.workspace_id AND gm.membership_id = m.id), ''),
           role_rank = CASE WHEN w.owner_account_id = m.account_id THEN 0
                            WHEN m.is_admin THEN 1
                            WHEN m.is_project_manager THEN 2
                            WHEN m.is_team_manager THEN 3
                            ELSE 4 END,
           search_text = ' ' || teamroom_fold(concat_ws(' ',
                coalesce(m.display_name, a.display_name, m.invited_email),
                coalesce(a.email, m.invited_email),
                (SELECT string_agg(g.name, ' ')
                   FROM group_members gm
                   JOIN groups g ON g.workspace_id = gm.workspace_id AND g.id = gm.group_id
                  WHERE gm.workspace_id = m.workspace_id AND gm.membership_id = m.id),
                (SELECT coalesce(tm.display_name, ta.display_name)
                   FROM memberships tm
                   LEFT JOIN accounts ta ON ta.id = tm.account_id
                  WHERE tm.workspace_id = m.workspace_id AND tm.id = m.team_manager_id)))
      FROM workspaces w, memberships src
      LEFT JOIN accounts a ON a.id = src.account_id
     WHERE w.id = ws
       AND src.workspace_id = ws AND m.workspace_id = ws AND src.id = m.id
       AND (ids IS NULL OR m.id = ANY (ids));
    -- The group lists' name order (group_members_in_name_order) follows.
    UPDATE group_members gm
       SET sort_name = m.sort_name
      FROM memberships m
     WHERE gm.workspace_id = ws AND m.workspace_id = ws AND m.id = gm.membership_id
       AND (ids IS NULL OR m.id = ANY (ids))
       AND gm.sort_name IS DISTINCT FROM m.sort_name;
END;

UPDATE group_members gm
   SET sort_name = m.sort_name
  FROM memberships m
 WHERE m.workspace_id = gm.workspace_id AND m.id = gm.membership_id;

CREATE INDEX group_members_in_name_order
    ON group_members (workspace_id, group_id, sort_name, membership_id);
