-- 0041: the network's announcements (docs/web.md, "Announcements"): a manager publishes a
-- short text to every member (an event, a new rule, a holiday closing), shown on the
-- members' dashboards until its end date and listed on `/news`; a manager may withdraw it
-- with a reason. Both are in the action log (`announcement.publish`,
-- `announcement.withdraw`); the row keeps who and when.
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 120),
    body TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    -- The last day it is shown on the dashboards (YYYY-MM-DD, UTC).
    ends_on TEXT NOT NULL CHECK (length(ends_on) = 10),
    author_user_id BIGINT NOT NULL REFERENCES users (id),
    published_at BIGINT NOT NULL,
    withdrawn_at BIGINT,
    withdrawn_reason TEXT,
    CHECK ((withdrawn_at IS NULL) = (withdrawn_reason IS NULL))
);
-- The dashboards' read: the current ones, newest first.
CREATE INDEX announcements_current ON announcements (ends_on, id) WHERE withdrawn_at IS NULL;
