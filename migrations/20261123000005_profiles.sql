-- Member profiles: working days, daily capacity, billing rate, email
-- notification settings; account photos.

ALTER TABLE memberships
    -- Bit 0 = Monday .. bit 6 = Sunday; Monday to Friday by default.
    ADD COLUMN working_days            smallint NOT NULL DEFAULT 31,
    ADD COLUMN daily_capacity_minutes  integer  NOT NULL DEFAULT 480,
    -- NULL: no rate set. Whole cents, so no rounding ever happens.
    ADD COLUMN billing_rate_cents      bigint,
    ADD COLUMN billing_currency        text     NOT NULL DEFAULT 'USD',
    ADD COLUMN notify_weekly_summary   boolean  NOT NULL DEFAULT true,
    ADD COLUMN notify_timer_reminders  boolean  NOT NULL DEFAULT true,
    ADD CONSTRAINT memberships_working_days CHECK (working_days BETWEEN 0 AND 127),
    ADD CONSTRAINT memberships_capacity CHECK (daily_capacity_minutes BETWEEN 0 AND 1440),
    ADD CONSTRAINT memberships_billing_rate CHECK (billing_rate_cents IS NULL
        OR billing_rate_cents BETWEEN 0 AND 100000000000),
    ADD CONSTRAINT memberships_billing_currency CHECK (billing_currency ~ '^[A-Z]{3}$');

-- A person's photo belongs to their account (one face in every workspace):
-- re-encoded by the app to a 256 px PNG, so nothing uploaded is served as is.
CREATE TABLE account_photos (
    account_id  bigint      PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    png         bytea       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_photos_size CHECK (octet_length(png) <= 1048576)
);
