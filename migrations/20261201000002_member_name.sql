-- How a member is named, in one place: the name set in this workspace,
-- else the account's own name, else the address they were invited at.
-- Every list, card, mail, report, export and search key reads it through
-- this function (the rule was written out about twenty times, in three
-- variants that disagreed on pending members). SCIM's displayName is not
-- this: it is a person's name, absent for an invitee without one. A member always
-- has one of the three (memberships_identity), so the result is NULL only
-- for a missing row (a LEFT JOIN that found no member). Takes the rows, so
-- a caller cannot pass the columns in the wrong order; `a` may be the NULL
-- row of a LEFT JOIN. A SQL function the planner inlines.
CREATE FUNCTION teamroom_member_name(m memberships, a accounts) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN coalesce(m.display_name, a.display_name, m.invited_email);

CREATE OR REPLACE FUNCTION teamroom_refresh_members(ws bigint, ids bigint[]) RETURNS void
    LANGUAGE sql VOLATILE
BEGIN ATOMIC
    UPDATE memberships m
       SET sort_name = teamroom_fold(teamroom_member_name(src, a)),
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
                teamroom_member_name(src, a),
                coalesce(a.email, m.invited_email),
                (SELECT string_agg(g.name, ' ')
                   FROM group_members gm
                   JOIN groups g ON g.workspace_id = gm.workspace_id AND g.id = gm.group_id
                  WHERE gm.workspace_id = m.workspace_id AND gm.membership_id = m.id),
                (SELECT teamroom_member_name(tm, ta)
                   FROM memberships tm
                   LEFT JOIN accounts ta ON ta.id = tm.account_id
                  WHERE tm.workspace_id = m.workspace_id AND tm.id = m.team_manager_id)))
      FROM workspaces w, memberships src
      LEFT JOIN accounts a ON a.id = src.account_id
     WHERE w.id = ws
       AND src.workspace_id = ws AND m.workspace_id = ws AND src.id = m.id
       AND (ids IS NULL OR m.id = ANY (ids));
    UPDATE group_members gm
       SET sort_name = m.sort_name
      FROM memberships m
     WHERE gm.workspace_id = ws AND m.workspace_id = ws AND m.id = gm.membership_id
       AND (ids IS NULL OR m.id = ANY (ids))
       AND gm.sort_name IS DISTINCT FROM m.sort_name;
END;
