-- Streamed transactions, recorded by record.sh with: proto_version '2',
-- streaming 'on', publication_names 'pub_v2', messages 'true', and the
-- server's logical_decoding_work_mem at its 64kB minimum so that a
-- transaction of a few thousand rows is streamed before it commits.

CREATE TYPE fx_color AS ENUM ('red', 'green');
CREATE TABLE fx_big (id int PRIMARY KEY, payload text, color fx_color);
CREATE TABLE fx_small (id int PRIMARY KEY);

CREATE PUBLICATION pub_v2 FOR TABLE fx_big, fx_small;
SELECT pg_create_logical_replication_slot('fx_v2', 'pgoutput');

-- Small: sent at commit as Begin … Commit, no xid on the data messages.
INSERT INTO fx_small VALUES (1);
-- Big and committed: Stream Start/Stop blocks (Relation, Type, Insert,
-- Message, Update, Delete, Truncate with a leading xid), then Stream Commit.
BEGIN;
INSERT INTO fx_big SELECT g, 'row ' || g, 'red' FROM generate_series(1, 2000) g;
SELECT pg_logical_emit_message(true, 'fx', 'inside a streamed transaction');
UPDATE fx_big SET color = 'green' WHERE id <= 600;
DELETE FROM fx_big WHERE id <= 300;
TRUNCATE fx_small;
COMMIT;
-- Big and rolled back: streamed blocks, then Stream Abort (subxid = xid).
BEGIN;
INSERT INTO fx_big SELECT g, 'gone', 'red' FROM generate_series(10001, 11000) g;
ROLLBACK;
-- Rolled back to a savepoint: Stream Abort for the subtransaction only,
-- then Stream Commit of the rest.
BEGIN;
INSERT INTO fx_big SELECT g, 'kept', 'red' FROM generate_series(20001, 20300) g;
SAVEPOINT s;
INSERT INTO fx_big SELECT g, 'undone', 'red' FROM generate_series(21001, 22200) g;
ROLLBACK TO SAVEPOINT s;
INSERT INTO fx_big SELECT g, 'kept too', 'green' FROM generate_series(23001, 23100) g;
COMMIT;
