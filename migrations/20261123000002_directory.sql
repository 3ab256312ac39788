-- Team directory: groups, projects, assigned team managers, and the
-- denormalised search and sort keys that keep the member list instant at a
-- million members.

-- Trigram indexes serve substring search (3+ characters) and, because
-- pg_trgm pads every word with blanks, word-prefix search of 1-2 characters
-- ("  j", " jo") from the same index. unaccent folds accents (José ~ jose).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- lower(unaccent(x)) as one function so the app and the seeder fold text
-- the same way. unaccent depends on a dictionary, so this is STABLE and is
-- only used to compute stored columns, never in an index expression.
CREATE FUNCTION teamroom_fold(input text) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN lower(public.unaccent(coalesce(input, '')));

CREATE TABLE groups (
    workspace_id  bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    name          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    CONSTRAINT groups_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX groups_name_key ON groups (workspace_id, lower(name));

CREATE TABLE group_members (
    workspace_id   bigint NOT NULL,
    group_id       bigint NOT NULL,
    membership_id  bigint NOT NULL,
    added_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, group_id, membership_id),
    FOREIGN KEY (workspace_id, group_id) REFERENCES groups (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, membership_id) REFERENCES memberships (workspace_id, id) ON DELETE CASCADE
);
-- "Which groups is this member in" (row display, refresh of search keys).
CREATE INDEX group_members_by_member ON group_members (workspace_id, membership_id);

CREATE TABLE projects (
    workspace_id  bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    name          text        NOT NULL,
    archived_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    CONSTRAINT projects_name_length CHECK (char_length(name) BETWEEN 1 AND 100)
);
CREATE UNIQUE INDEX projects_name_key ON projects (workspace_id, lower(name));

-- Members given specific projects. A membership with all_projects = true
-- sees every project and has no rows here.
CREATE TABLE project_members (
    workspace_id   bigint NOT NULL,
    project_id     bigint NOT NULL,
    membership_id  bigint NOT NULL,
    PRIMARY KEY (workspace_id, project_id, membership_id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, membership_id) REFERENCES memberships (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX project_members_by_member ON project_members (workspace_id, membership_id);

ALTER TABLE memberships
    ADD COLUMN all_projects     boolean  NOT NULL DEFAULT true,
    -- The member's assigned team manager (a membership of the same workspace).
    ADD COLUMN team_manager_id  bigint,
    -- Denormalised keys, rewritten by teamroom_refresh_members() whenever a
    -- name, email, role, group or manager changes.
    ADD COLUMN sort_name        text     NOT NULL DEFAULT '',
    ADD COLUMN sort_email       text     NOT NULL DEFAULT '',
    ADD COLUMN sort_groups      text     NOT NULL DEFAULT '',
    -- 0 owner, 1 admin, 2 project manager, 3 team manager, 4 member.
    ADD COLUMN role_rank        smallint NOT NULL DEFAULT 4,
    -- ' name email groups manager', folded; the leading blank lets
    -- LIKE '% jo%' mean "a word starting with jo".
    ADD COLUMN search_text      text     NOT NULL DEFAULT '',
    ADD CONSTRAINT memberships_team_manager FOREIGN KEY (workspace_id, team_manager_id)
        REFERENCES memberships (workspace_id, id) ON DELETE SET NULL (team_manager_id);

-- Recomputes the denormalised keys of some memberships of one workspace
-- (all of them when ids is NULL). Called in the same transaction as the
-- change that made them stale.
CREATE FUNCTION teamroom_refresh_members(ws bigint, ids bigint[]) RETURNS void
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
END;

SELECT teamroom_refresh_members(w.id, NULL) FROM workspaces w;

-- One index per sort order, led by workspace_id and ending in id as the
-- keyset tie-breaker, so any first page and any page deep down is a short
-- index range scan. Status, role, kind and group filters ride along as
-- filters on these scans (common values) or come from the GIN and group
-- indexes (rare ones). Keys are kept narrow: at a million members every
-- extra column costs seconds of seeding and megabytes of cache.
CREATE INDEX memberships_sort_name ON memberships (workspace_id, sort_name, id);
CREATE INDEX memberships_sort_email ON memberships (workspace_id, sort_email, id);
CREATE INDEX memberships_sort_groups ON memberships (workspace_id, sort_groups, id);
CREATE INDEX memberships_sort_roles ON memberships (workspace_id, role_rank, id);
CREATE INDEX memberships_sort_status ON memberships (workspace_id, status, id);
CREATE INDEX memberships_sort_kind ON memberships (workspace_id, kind, id);
CREATE INDEX memberships_sort_last_active
    ON memberships (workspace_id, (coalesce(last_active_at, '-infinity'::timestamptz)), id);
CREATE INDEX memberships_sort_added ON memberships (workspace_id, created_at, id);
CREATE INDEX memberships_by_team_manager ON memberships (workspace_id, team_manager_id)
    WHERE team_manager_id IS NOT NULL;
-- Search: a GIN trigram index. GIN cannot lead with a bigint without
-- btree_gin, so the workspace is applied as a recheck; trigram selectivity
-- does the heavy lifting and every query still names its workspace.
CREATE INDEX memberships_search ON memberships USING gin (search_text gin_trgm_ops);
-- Larger statistics so the planner estimates LIKE selectivity on the
-- search text well enough to pick between the trigram index and a
-- sorted scan.
ALTER TABLE memberships ALTER COLUMN search_text SET STATISTICS 1000;
