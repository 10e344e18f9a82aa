-- A page asks for the messages before the oldest one it shows, which it
-- knows by its time, author and text: finding it by time must not scan the
-- whole table.
CREATE INDEX messages_created_at ON messages (created_at);
