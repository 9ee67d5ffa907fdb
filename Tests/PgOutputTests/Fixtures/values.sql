-- Column values of every type the converter knows, as pgoutput prints them
-- (record.sh: proto_version '1', publication_names 'pub_values').
--
-- Each table is (label, val, expected). `expected` is the JSON text that
-- Postgres itself prints for val (to_json), so the test's expectations are
-- not hand-written. Where DESIGN section 5 deliberately differs from to_json,
-- the difference is a visible expression here:
--   numeric, money, composite, unmapped domain: the text as a JSON string
--     (to_json(val::text)), since to_json would print numeric as a number;
--   oid: a number (to_json(val::int8)), where to_json prints a string;
--   bytea: base64 (encode(val, 'base64') without its line breaks);
--   BC dates and timestamps: ISO 8601 astronomical years (fx_iso_year);
--   timestamptz: 'Z' for the +00:00 that to_json prints in a UTC session;
--   timetz: offsets as +HH:MM where to_json prints only +HH.
-- The session settings are the ones the replication connection uses.

SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'iso_8601';
SET TimeZone = 'UTC';
SET extra_float_digits = 3;
SET bytea_output = 'hex';

-- to_json prints a BC year as "0044-03-15 BC"; ISO 8601 numbers years
-- astronomically (1 BC is 0000, 44 BC is -0043).
-- (plpgsql, so the planner cannot fold the BC branch for infinity.)
CREATE FUNCTION fx_iso_year(j json, year numeric) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN CASE WHEN j::text LIKE '% BC"' THEN
    '"' || CASE WHEN year < -1 THEN '-' ELSE '' END
        || lpad((-year - 1)::bigint::text, 4, '0')
        || substring(j::text FROM '^"\d+(.*) BC"$') || '"'
  ELSE j::text END; END
$$;
CREATE FUNCTION fx_utc_z(j text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT regexp_replace(j, '\+00:00(")', 'Z\1', 'g') $$;
CREATE FUNCTION fx_hh_mm(j text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT regexp_replace(j, '([+-]\d\d)(")', '\1:00\2', 'g') $$;
CREATE FUNCTION fx_base64(b bytea) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT translate(encode(b, 'base64'), E'\n', '') $$;

CREATE TYPE fx_mood AS ENUM ('sad', 'ok', 'happy');
-- The test maps fx_posint to int4 (as the pipeline would from the catalog)
-- and leaves fx_unmapped alone, so one is a number and the other a string.
CREATE DOMAIN fx_posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN fx_unmapped AS int4;
CREATE TYPE fx_pair AS (a int, b text);

CREATE PUBLICATION pub_values FOR ALL TABLES;

-- One table per type, filled by fx_fill(type, expected expression, literals).
CREATE FUNCTION fx_fill(name text, typ text, expected text, literals text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  lit text;
  n int := 0;
BEGIN
  EXECUTE format('CREATE TABLE %I (label text, val %s, expected text)', name, typ);
  FOREACH lit IN ARRAY literals LOOP
    n := n + 1;
    EXECUTE format('INSERT INTO %I SELECT %L, v, %s FROM (SELECT %L::%s AS v) s',
                   name, name || ' #' || n || ' ' || lit, expected, lit, typ);
  END LOOP;
END $$;

SELECT pg_create_logical_replication_slot('fx_values', 'pgoutput');

SELECT fx_fill('t_bool', 'bool', 'to_json(v)', ARRAY['t', 'f']);
SELECT fx_fill('t_int2', 'int2', 'to_json(v)', ARRAY['0', '32767', '-32768']);
SELECT fx_fill('t_int4', 'int4', 'to_json(v)', ARRAY['0', '2147483647', '-2147483648']);
SELECT fx_fill('t_int8', 'int8', 'to_json(v)', ARRAY['9223372036854775807', '-9223372036854775808']);
SELECT fx_fill('t_oid', 'oid', 'to_json(v::int8)', ARRAY['0', '4294967295']);
SELECT fx_fill('t_float4', 'float4', 'to_json(v)',
  ARRAY['1.5', '-0.1', '3.4028235e38', '1e-45', '0', '-0', '0.3', 'NaN', 'Infinity', '-Infinity']);
SELECT fx_fill('t_float8', 'float8', 'to_json(v)',
  ARRAY['0.1', '1e308', '5e-324', '-1.2345678901234567e-300', '123456789012345680000', '100',
        'NaN', 'Infinity', '-Infinity']);
SELECT fx_fill('t_numeric', 'numeric', 'to_json(v::text)',
  ARRAY['12345678901234567890.000000001', '-0.5', '0', '1e-20', '1.50', 'NaN', 'Infinity', '-Infinity']);
SELECT fx_fill('t_money', 'money', 'to_json(v::text)', ARRAY['1234.56', '-1.5', '0']);
SELECT fx_fill('t_text', 'text', 'to_json(v)',
  ARRAY['plain', '', 'quote " backslash \ slash /', E'controls \x01\x02\x1f \b\f\n\r\t\x7f end',
        'unicode é ü 中文 😀', E'separators \u2028 \u2029', 'NULL', '<script>&amp;</script>']);
SELECT fx_fill('t_varchar', 'varchar(20)', 'to_json(v)', ARRAY['short', E'tab\tin']);
SELECT fx_fill('t_bpchar', 'char(5)', 'to_json(v)', ARRAY['ab', 'abcde']);
SELECT fx_fill('t_char', '"char"', 'to_json(v)', ARRAY['x', '"']);
SELECT fx_fill('t_name', 'name', 'to_json(v)', ARRAY['pg_class', 'With Space']);
SELECT fx_fill('t_xml', 'xml', 'to_json(v)', ARRAY['<a b="c">d &amp; e</a>']);
SELECT fx_fill('t_uuid', 'uuid', 'to_json(v)', ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']);
SELECT fx_fill('t_inet', 'inet', 'to_json(v)', ARRAY['192.168.0.1/24', '::1', '10.0.0.1']);
SELECT fx_fill('t_cidr', 'cidr', 'to_json(v)', ARRAY['10.0.0.0/8', '2001:db8::/32']);
SELECT fx_fill('t_macaddr', 'macaddr', 'to_json(v)', ARRAY['08:00:2b:01:02:03']);
SELECT fx_fill('t_macaddr8', 'macaddr8', 'to_json(v)', ARRAY['08:00:2b:01:02:03:04:05']);
SELECT fx_fill('t_bit', 'bit(3)', 'to_json(v)', ARRAY['101']);
SELECT fx_fill('t_varbit', 'varbit', 'to_json(v)', ARRAY['1', '', '110011']);
SELECT fx_fill('t_pg_lsn', 'pg_lsn', 'to_json(v)', ARRAY['16/B374D848', '0/0']);
SELECT fx_fill('t_json', 'json', 'v::text',
  ARRAY['{"a": [1, 2.5, "x\u0001"], "b": null}', '"str"', '123', 'null', E' {\n "spaced" : true }']);
SELECT fx_fill('t_jsonb', 'jsonb', 'v::text',
  ARRAY['{"b": 2, "a": [true, {"c": "d"}]}', '"é"', '[]', '-1.5e3']);
SELECT fx_fill('t_bytea', 'bytea', 'to_json(fx_base64(v))',
  ARRAY['\x', '\x00', '\x00ff', '\x00ff10', '\xdeadbeef', '\xdeadbeef01',
        '\x' || repeat('0123456789abcdef', 20)]);
SELECT fx_fill('t_date', 'date', 'fx_iso_year(to_json(v), extract(year FROM v))',
  ARRAY['2026-11-24', '0001-01-01', 'infinity', '-infinity', '0044-03-15 BC', '0001-01-01 BC',
        '0002-12-31 BC', '4713-01-01 BC', '5874897-12-31']);
SELECT fx_fill('t_timestamp', 'timestamp', 'fx_iso_year(to_json(v), extract(year FROM v))',
  ARRAY['2026-11-24 10:00:00.123456', '2026-11-24 10:00:00', '2026-11-24 10:00:00.5',
        'infinity', '-infinity', '0044-03-15 10:00:00.5 BC', '294276-12-31 23:59:59.999999']);
SELECT fx_fill('t_timestamptz', 'timestamptz', 'fx_utc_z(fx_iso_year(to_json(v), extract(year FROM v)))',
  ARRAY['2026-11-24 10:00:00.123456+00', '2026-11-24 12:00:00+02', '1800-01-01 00:00:00+00',
        'infinity', '-infinity', '0044-03-15 10:00:00 BC', '0001-06-01 23:59:59.000001+00 BC']);
SELECT fx_fill('t_time', 'time', 'to_json(v)', ARRAY['10:00:00.5', '00:00', '24:00:00', '23:59:59.999999']);
SELECT fx_fill('t_timetz', 'timetz', 'fx_hh_mm(to_json(v)::text)',
  ARRAY['10:00:00+02', '10:00:00.5-03:30', '00:00:00+00', '12:00:00+05:45', '10:00:00+01:02:03']);
SELECT fx_fill('t_interval', 'interval', 'to_json(v)',
  ARRAY['1 year 2 mons 3 days 04:05:06.5', '0', '-1 day', '1 mon -2 days', '-00:00:01.5', '100 years']);

-- Arrays: each element converted with the element's kind.
SELECT fx_fill('t_int4_array', 'int4[]', 'to_json(v)',
  ARRAY['{1,2,NULL}', '{{1,2},{3,4}}', '{}', '[0:1]={1,2}', '{{1,NULL},{NULL,4}}', '{{{1}},{{2}}}',
        '[-2:-1][3:4]={{5,6},{7,8}}']);
SELECT fx_fill('t_int2_array', 'int2[]', 'to_json(v)', ARRAY['{-1,NULL,32767}']);
SELECT fx_fill('t_int8_array', 'int8[]', 'to_json(v)', ARRAY['{9223372036854775807,-1}']);
SELECT fx_fill('t_oid_array', 'oid[]', 'to_json(v::int8[])', ARRAY['{0,4294967295}']);
SELECT fx_fill('t_text_array', 'text[]', 'to_json(v)',
  ARRAY['{"a b","c\"d",NULL,"NULL","",null,"back\\slash","{}","x,y","é",plain}',
        E'{"tab\there"," lead","trail ",nul,"Null"}', '{{a,b},{c,NULL}}', '{}']);
SELECT fx_fill('t_varchar_array', 'varchar[]', 'to_json(v)', ARRAY['{x,"y z"}']);
SELECT fx_fill('t_bpchar_array', 'char(3)[]', 'to_json(v)', ARRAY['{a,bcd}']);
SELECT fx_fill('t_char_array', '"char"[]', 'to_json(v)', ARRAY['{a,",","\""}']);
SELECT fx_fill('t_name_array', 'name[]', 'to_json(v)', ARRAY['{pg_class,"a b"}']);
SELECT fx_fill('t_float4_array', 'float4[]', 'to_json(v)', ARRAY['{1.5,NaN,-Infinity,NULL}']);
SELECT fx_fill('t_float8_array', 'float8[]', 'to_json(v)',
  ARRAY['{NaN,Infinity,-Infinity,1.5,NULL,1e-300}', '{{0.1,0.2},{NaN,NULL}}']);
SELECT fx_fill('t_numeric_array', 'numeric[]', 'to_json(v::text[])',
  ARRAY['{1.5,NaN,NULL,12345678901234567890.000000001}', '{{1,-Infinity},{Infinity,NULL}}']);
SELECT fx_fill('t_money_array', 'money[]', 'to_json(v::text[])', ARRAY['{1.5,-2}']);
SELECT fx_fill('t_bool_array', 'bool[]', 'to_json(v)', ARRAY['{t,f,NULL}', '{{t},{f}}']);
SELECT fx_fill('t_json_array', 'json[]', 'to_json(v)', ARRAY['{"{\"a\" : 1}","[1, \"x\"]",NULL,"\"s\""}']);
SELECT fx_fill('t_jsonb_array', 'jsonb[]', 'to_json(v)',
  ARRAY['{"{\"a\": 1}","[1, \"x\\\\y\"]",NULL,"\"s\"",null,"null"}']);
SELECT fx_fill('t_bytea_array', 'bytea[]',
  'to_json(array(SELECT fx_base64(x) FROM unnest(v) x))', ARRAY['{"\\x0102",NULL,"\\x","\\xdeadbeef"}']);
SELECT fx_fill('t_date_array', 'date[]', 'to_json(v)', ARRAY['{2026-11-24,infinity,NULL,-infinity}']);
SELECT fx_fill('t_timestamp_array', 'timestamp[]', 'to_json(v)',
  ARRAY['{"2026-11-24 10:00:00.5",infinity,NULL}']);
SELECT fx_fill('t_timestamptz_array', 'timestamptz[]', 'fx_utc_z(to_json(v)::text)',
  ARRAY['{"2026-11-24 10:00:00.5+00","2026-01-01 00:00:00+05",-infinity}']);
SELECT fx_fill('t_time_array', 'time[]', 'to_json(v)', ARRAY['{10:00:00.5,NULL}']);
SELECT fx_fill('t_timetz_array', 'timetz[]', 'fx_hh_mm(to_json(v)::text)', ARRAY['{10:00:00+02,11:00:00-03:30}']);
SELECT fx_fill('t_interval_array', 'interval[]', 'to_json(v)', ARRAY['{P1D,"-1 days",NULL}']);
SELECT fx_fill('t_uuid_array', 'uuid[]', 'to_json(v)', ARRAY['{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}']);
SELECT fx_fill('t_inet_array', 'inet[]', 'to_json(v)', ARRAY['{192.168.0.1/24,::1}']);
SELECT fx_fill('t_cidr_array', 'cidr[]', 'to_json(v)', ARRAY['{10.0.0.0/8}']);
SELECT fx_fill('t_macaddr_array', 'macaddr[]', 'to_json(v)', ARRAY['{08:00:2b:01:02:03}']);
SELECT fx_fill('t_macaddr8_array', 'macaddr8[]', 'to_json(v)', ARRAY['{08:00:2b:01:02:03:04:05}']);
SELECT fx_fill('t_bit_array', 'bit(2)[]', 'to_json(v)', ARRAY['{10,01}']);
SELECT fx_fill('t_varbit_array', 'varbit[]', 'to_json(v)', ARRAY['{1,"",0101}']);
SELECT fx_fill('t_pg_lsn_array', 'pg_lsn[]', 'to_json(v)', ARRAY['{16/B374D848,0/0}']);
SELECT fx_fill('t_xml_array', 'xml[]', 'to_json(v)', ARRAY['{"<a>x</a>",<b/>}']);
-- box is the one built-in type whose array delimiter is ';'.
SELECT fx_fill('t_box_array', 'box[]', 'to_json(v::text[])', ARRAY['{(1,1),(0,0);(3,3),(2,2)}']);
SELECT fx_fill('t_point_array', 'point[]', 'to_json(v::text[])', ARRAY['{"(1,2)","(3.5,-4)"}']);
SELECT fx_fill('t_int4range_array', 'int4range[]', 'to_json(v)', ARRAY['{"[1,3)",empty}']);

-- Types without a built-in kind: their text as a JSON string.
SELECT fx_fill('t_enum', 'fx_mood', 'to_json(v)', ARRAY['happy']);
SELECT fx_fill('t_domain_mapped', 'fx_posint', 'to_json(v)', ARRAY['7']);
SELECT fx_fill('t_domain_unmapped', 'fx_unmapped', 'to_json(v::text)', ARRAY['7']);
SELECT fx_fill('t_enum_array', 'fx_mood[]', 'to_json(v)', ARRAY['{sad,NULL,happy}']);
SELECT fx_fill('t_composite', 'fx_pair', 'to_json(v::text)', ARRAY['(1,"a b")', '(,)']);
SELECT fx_fill('t_int4range', 'int4range', 'to_json(v)', ARRAY['[1,10)', 'empty']);
SELECT fx_fill('t_tsvector', 'tsvector', 'to_json(v)', ARRAY['a fat cat']);
SELECT fx_fill('t_point', 'point', 'to_json(v)', ARRAY['(1,2)']);
SELECT fx_fill('t_box', 'box', 'to_json(v)', ARRAY['(1,1),(0,0)']);
