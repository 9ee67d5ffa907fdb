// DDL capture: an event trigger on the source that writes each DDL command
// of a table into the WAL as a transactional logical decoding message
// (`pg_logical_emit_message(true, 'popsink.ddl', …)`), in the transaction of
// the DDL. pgoutput reveals a table's new shape only in the Relation message
// before the table's next row change; the message makes the change visible in
// commit order even when no row change follows, and carries the column list
// as the catalog has it right after the command (PostgreSQL docs, "Event
// Trigger Functions": pg_event_trigger_ddl_commands, pg_event_trigger_dropped_objects).
//
// The column list is built the way the pipeline builds a Relation's (live,
// non-generated columns in attribute order; the key is the primary key, else
// the replica identity index), so the Relation that follows has the same
// shape and makes no second version.
//
// Only superusers may create event triggers. The function is SECURITY
// DEFINER so that DDL of any role can emit the message, and it never fails
// the DDL it records: an error becomes a warning, and the change then
// reaches the stream the way it does without DDL capture.

import PostgresReplication

public enum DDLCapture {
    /// The prefix of the messages; the stream reads no other prefix as DDL.
    public static let prefix = "popsink.ddl"
    public static let schemaName = "popsink"
    public static let functionName = "popsink.emit_ddl"
    /// The two event triggers: after each DDL command, and for dropped tables.
    public static let triggerNames = ["popsink_ddl_command_end", "popsink_ddl_sql_drop"]

    /// Installs (or replaces) the function and the triggers; idempotent.
    public static let installSQL = """
        CREATE SCHEMA IF NOT EXISTS popsink;
        CREATE OR REPLACE FUNCTION popsink.emit_ddl() RETURNS event_trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $popsink$
        DECLARE
            command record;
            payloads text[] := '{}';
            payload text;
        BEGIN
            IF current_setting('wal_level') <> 'logical' THEN
                RETURN;
            END IF;
            BEGIN
                IF TG_EVENT = 'sql_drop' THEN
                    FOR command IN
                        SELECT * FROM pg_event_trigger_dropped_objects()
                        WHERE classid = 'pg_class'::regclass AND objsubid = 0 AND object_type = 'table'
                    LOOP
                        payloads := payloads || jsonb_build_object(
                            'event', 'sql_drop', 'tag', TG_TAG, 'object_type', command.object_type,
                            'schema', command.schema_name, 'table', command.object_name,
                            'identity', command.object_identity, 'oid', command.objid::int8,
                            'sql', current_query())::text;
                    END LOOP;
                ELSE
                    FOR command IN
                        SELECT DISTINCT ON (d.objid) d.objid, d.command_tag, d.object_type, d.object_identity,
                               n.nspname, c.relname
                        FROM pg_event_trigger_ddl_commands() d
                        JOIN pg_class c ON c.oid = d.objid
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                        WHERE d.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'p')
                        ORDER BY d.objid
                    LOOP
                        payloads := payloads || jsonb_build_object(
                            'event', 'ddl_command_end', 'tag', command.command_tag, 'object_type', command.object_type,
                            'schema', command.nspname, 'table', command.relname,
                            'identity', command.object_identity, 'oid', command.objid::int8,
                            'sql', current_query(),
                            'columns', (
                                SELECT coalesce(jsonb_agg(jsonb_build_object(
                                    'name', a.attname, 'type_oid', a.atttypid::int8, 'type_modifier', a.atttypmod,
                                    'type', format_type(a.atttypid, a.atttypmod), 'nullable', NOT a.attnotnull,
                                    'default', pg_get_expr(ad.adbin, ad.adrelid), 'attnum', a.attnum)
                                    ORDER BY a.attnum), '[]'::jsonb)
                                FROM pg_attribute a
                                LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                WHERE a.attrelid = command.objid AND a.attnum > 0 AND NOT a.attisdropped
                                    AND a.attgenerated = ''),
                            'key', (
                                SELECT coalesce(jsonb_agg(a.attname ORDER BY i.indisprimary DESC, i.indexrelid, x.position),
                                                '[]'::jsonb)
                                FROM pg_index i
                                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS x(attnum, position)
                                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = x.attnum
                                WHERE i.indrelid = command.objid AND (i.indisprimary OR (i.indisreplident AND NOT EXISTS (
                                    SELECT 1 FROM pg_index p WHERE p.indrelid = command.objid AND p.indisprimary))))
                            )::text;
                    END LOOP;
                END IF;
            EXCEPTION WHEN OTHERS THEN
                -- Never block the user's DDL: the change still reaches the
                -- stream with the table's next row change.
                RAISE WARNING 'popsink DDL capture did not record this command: %', SQLERRM;
                payloads := '{}';
            END;
            -- Emitted outside the block above, which runs as a subtransaction:
            -- in a transaction streamed before its commit (PostgreSQL 15), a
            -- message of a subtransaction was decoded after the next row change.
            FOREACH payload IN ARRAY payloads LOOP
                PERFORM pg_logical_emit_message(true, 'popsink.ddl', payload);
            END LOOP;
        END
        $popsink$;
        DROP EVENT TRIGGER IF EXISTS popsink_ddl_command_end;
        CREATE EVENT TRIGGER popsink_ddl_command_end ON ddl_command_end EXECUTE PROCEDURE popsink.emit_ddl();
        DROP EVENT TRIGGER IF EXISTS popsink_ddl_sql_drop;
        CREATE EVENT TRIGGER popsink_ddl_sql_drop ON sql_drop EXECUTE PROCEDURE popsink.emit_ddl();
        """

    /// Removes the triggers and the function (the `popsink` schema stays: it may hold more).
    public static let uninstallSQL = """
        DROP EVENT TRIGGER IF EXISTS popsink_ddl_command_end;
        DROP EVENT TRIGGER IF EXISTS popsink_ddl_sql_drop;
        DROP FUNCTION IF EXISTS popsink.emit_ddl();
        """

    /// Which of the two triggers exist and are enabled.
    public static let statusSQL = """
        SELECT evtname FROM pg_event_trigger
        WHERE evtname IN ('popsink_ddl_command_end', 'popsink_ddl_sql_drop') AND evtenabled <> 'D'
        ORDER BY evtname
        """

    /// Whether both triggers are installed and enabled, on `connection`.
    public static func isInstalled(on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query(statusSQL).rows.count == triggerNames.count
    }

    /// Installs in one transaction, so a refusal leaves nothing half made.
    public static func install(on connection: PostgresConnection) throws(PostgresError) {
        try connection.query("BEGIN;\n" + installSQL + "\nCOMMIT;")
    }

    public static func uninstall(on connection: PostgresConnection) throws(PostgresError) {
        try connection.query("BEGIN;\n" + uninstallSQL + "\nCOMMIT;")
    }
}
