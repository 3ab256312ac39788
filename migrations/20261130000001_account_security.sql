-- Account security: throttles that hold under concurrent bursts, known
-- devices, password reset links, and where a session came from.

-- Failure counters with a growing wait (accounts by address, known devices,
-- client addresses, Kiosk PINs). A try is reserved here, in one statement,
-- before the expensive check, so concurrent guesses count like serial ones.
-- Global (not per workspace): the keys name accounts and addresses.
CREATE TABLE auth_throttles (
    scope            text        NOT NULL,
    key              text        NOT NULL,
    failures         integer     NOT NULL,
    last_failure_at  timestamptz NOT NULL,
    -- The next try is refused until then.
    blocked_until    timestamptz,
    PRIMARY KEY (scope, key),
    CONSTRAINT auth_throttles_key_length CHECK (char_length(key) BETWEEN 1 AND 300)
);
CREATE INDEX auth_throttles_by_age ON auth_throttles (last_failure_at);

-- Fixed-window request counters (sign-ups per address, resets per email...).
CREATE TABLE rate_windows (
    scope         text        NOT NULL,
    key           text        NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer     NOT NULL,
    PRIMARY KEY (scope, key, window_start),
    CONSTRAINT rate_windows_key_length CHECK (char_length(key) BETWEEN 1 AND 300)
);
CREATE INDEX rate_windows_by_age ON rate_windows (window_start);

-- Browsers that have signed in to an account (OWASP "device cookies"): the
-- cookie holds a random value, this table its SHA-256. A known browser is
-- throttled on its own count, so a stranger's burst does not lock the owner out.
CREATE TABLE known_devices (
    account_id     bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    device_hash    bytea       NOT NULL,
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, device_hash)
);

-- "Forgot password" links: single use, short-lived, only the hash stored.
CREATE TABLE password_resets (
    token_hash   bytea       PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX password_resets_by_account ON password_resets (account_id);


-- Wrong Kiosk PINs are counted in auth_throttles now.
ALTER TABLE memberships
    DROP COLUMN kiosk_pin_failures,
    DROP COLUMN kiosk_pin_locked_until;
-- Wrong passwords are counted in auth_throttles, keyed by address.
ALTER TABLE accounts
    DROP COLUMN failed_sign_ins,
    DROP COLUMN locked_until;

-- Whether sign-ins to an address must wait now (the lock icon admins see).
-- The one place that knows the sign-in throttle's scope name in SQL.
CREATE FUNCTION teamroom_sign_in_blocked(address text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM auth_throttles
                    WHERE scope = 'sign_in_email' AND key = lower(address)
                      AND blocked_until > now())
$$;

-- Whether a member's Kiosk PIN must wait now.
CREATE FUNCTION teamroom_kiosk_pin_blocked(workspace bigint, membership bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM auth_throttles
                    WHERE scope = 'kiosk_pin' AND key = workspace || ':' || membership
                      AND blocked_until > now())
$$;

-- A throttle's failure count after a quiet period: forgotten once no failure
-- came for `forget_after_secs`.
CREATE FUNCTION teamroom_decayed(failures integer, last_failure_at timestamptz, forget_after_secs float8)
RETURNS integer LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN last_failure_at < now() - make_interval(secs => forget_after_secs)
                THEN 0 ELSE failures END
$$;

ALTER TABLE outbox DROP CONSTRAINT outbox_kind;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind
    CHECK (kind IN ('invitation', 'verify_email', 'email_change', 'email_changed_notice',
                    'password_reset', 'security_notice'));

-- A handle for a session that is not its token hash (the sessions list
-- names sessions by it).
ALTER TABLE sessions ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE sessions ADD CONSTRAINT sessions_id_key UNIQUE (id);
