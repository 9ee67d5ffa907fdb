-- Every pgoutput message type protocol version 1 sends, recorded by record.sh
-- with: proto_version '1', publication_names 'pub_v1', messages 'true'.
-- (Stream messages need version 2: see protocol-v2-streaming.sql.)

CREATE TYPE fx_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN fx_posint AS int4 CHECK (VALUE > 0);

-- REPLICA IDENTITY FULL: updates and deletes carry the whole old row ('O').
CREATE TABLE fx_full (id int PRIMARY KEY, name text, mood fx_mood, score fx_posint);
ALTER TABLE fx_full REPLICA IDENTITY FULL;
-- Default identity: an update that changes the key carries the old key ('K').
CREATE TABLE fx_keyed (id int PRIMARY KEY, note text);
-- EXTERNAL storage keeps the big value out of line and uncompressed, so an
-- update that leaves it alone sends it as unchanged TOAST ('u').
CREATE TABLE fx_toast (id int PRIMARY KEY, big text, counter int);
ALTER TABLE fx_toast ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE fx_other (id serial PRIMARY KEY);

CREATE PUBLICATION pub_v1 FOR TABLE fx_full, fx_keyed, fx_toast, fx_other;
SELECT pg_create_logical_replication_slot('fx_v1', 'pgoutput');

-- Relation (+ Type for fx_mood and fx_posint), Insert.
INSERT INTO fx_full VALUES (1, 'alice', 'happy', 7), (2, NULL, 'sad', 1);
-- Update with the old row ('O').
UPDATE fx_full SET name = 'alicia' WHERE id = 1;
-- Update changing the key ('K'), then one that keeps it (no old tuple).
INSERT INTO fx_keyed VALUES (1, 'one');
UPDATE fx_keyed SET id = 10 WHERE id = 1;
UPDATE fx_keyed SET note = 'ten' WHERE id = 10;
-- Unchanged TOASTed value ('u').
INSERT INTO fx_toast VALUES (1, repeat('x', 3000), 0);
UPDATE fx_toast SET counter = 1 WHERE id = 1;
-- Deletes with the old row ('O') and with the old key ('K').
DELETE FROM fx_full WHERE id = 2;
DELETE FROM fx_keyed WHERE id = 10;
-- Truncate of two tables, then one with both option flags.
TRUNCATE fx_keyed, fx_other;
TRUNCATE fx_other RESTART IDENTITY CASCADE;
-- Logical messages: transactional (inside Begin/Commit) and not (alone).
BEGIN;
SELECT pg_logical_emit_message(true, 'fx', 'transactional');
INSERT INTO fx_other DEFAULT VALUES;
COMMIT;
SELECT pg_logical_emit_message(false, 'fx', 'not transactional');
-- Origin: a transaction replayed from elsewhere carries its origin name and LSN.
SELECT pg_replication_origin_create('fx_origin');
SELECT pg_replication_origin_session_setup('fx_origin');
BEGIN;
SELECT pg_replication_origin_xact_setup('0/ABCDEF0', '2026-01-02 03:04:05+00');
INSERT INTO fx_other DEFAULT VALUES;
COMMIT;
SELECT pg_replication_origin_session_reset();
-- A schema change: pgoutput sends a new Relation before the next change.
ALTER TABLE fx_full ADD COLUMN extra bigint;
INSERT INTO fx_full VALUES (3, 'carol', 'ok', 3, 42);
