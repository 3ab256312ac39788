-- Time tracking and the Kiosk: just enough for deactivation, deletion,
-- reports and the Accounts tab to act on real time data.

-- The member's own settings for time: the zone entries are shown in (an
-- IANA name, checked by the app), the first day of their week (ISO: 1 =
-- Monday .. 7 = Sunday), whether they may edit or delete their own
-- entries, and the Kiosk PIN (argon2id; throttled per member).
ALTER TABLE memberships
    ADD COLUMN time_zone               text     NOT NULL DEFAULT 'UTC',
    ADD COLUMN week_start              smallint NOT NULL DEFAULT 1,
    ADD COLUMN may_edit_own_time       boolean  NOT NULL DEFAULT true,
    ADD COLUMN kiosk_pin_hash          text,
    ADD COLUMN kiosk_pin_failures      integer  NOT NULL DEFAULT 0,
    ADD COLUMN kiosk_pin_locked_until  timestamptz,
    ADD CONSTRAINT memberships_week_start CHECK (week_start BETWEEN 1 AND 7),
    ADD CONSTRAINT memberships_time_zone_length CHECK (char_length(time_zone) BETWEEN 1 AND 64);

CREATE TABLE time_entries (
    workspace_id   bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    -- NULL once the member is deleted: the hours stay in reports under
    -- "Deleted user" and can no longer be told apart by person.
    membership_id  bigint,
    project_id     bigint,
    description    text        NOT NULL DEFAULT '',
    -- Stored in UTC; shown in the member's zone.
    started_at     timestamptz NOT NULL,
    -- NULL while the timer runs.
    ended_at       timestamptz,
    -- How the entry was made: the Time page's timer, typed in, or the Kiosk.
    source         text        NOT NULL DEFAULT 'timer',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, membership_id) REFERENCES memberships (workspace_id, id)
        ON DELETE SET NULL (membership_id),
    FOREIGN KEY (workspace_id, project_id) REFERENCES projects (workspace_id, id)
        ON DELETE SET NULL (project_id),
    CONSTRAINT time_entries_source CHECK (source IN ('timer', 'manual', 'kiosk')),
    -- The 24-hour limit is for entries people type; a forgotten timer is
    -- saved as it ran, so someone can correct it, rather than refused.
    CONSTRAINT time_entries_order CHECK (ended_at IS NULL OR ended_at >= started_at),
    CONSTRAINT time_entries_years CHECK (started_at >= '2000-01-01' AND started_at < '2100-01-01'),
    CONSTRAINT time_entries_description_length CHECK (char_length(description) <= 500)
);
-- At most one running timer per member per workspace, whatever races.
CREATE UNIQUE INDEX time_entries_one_running ON time_entries (workspace_id, membership_id)
    WHERE ended_at IS NULL;
-- A member's week, and the summary report over a date range.
CREATE INDEX time_entries_by_member ON time_entries (workspace_id, membership_id, started_at);
CREATE INDEX time_entries_by_start ON time_entries (workspace_id, started_at);

-- A shared device launched into Kiosk mode. The device holds a random
-- token in a cookie; only its SHA-256 is kept here.
CREATE TABLE kiosks (
    workspace_id   bigint      NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id             bigint GENERATED ALWAYS AS IDENTITY,
    token_hash     bytea       NOT NULL,
    launched_by    bigint      REFERENCES accounts (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz,
    ended_at       timestamptz,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX kiosks_token_key ON kiosks (token_hash);
