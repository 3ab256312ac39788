-- The Team page shows, on a pending member's row, why their latest
-- invitation mail is not getting through (`outbox.last_error` of that
-- member's newest message, also once the worker gave up on it). The
-- existing outbox_by_membership index covers only messages still queued.
CREATE INDEX outbox_latest_by_membership ON outbox (workspace_id, membership_id, id DESC)
    WHERE membership_id IS NOT NULL;
