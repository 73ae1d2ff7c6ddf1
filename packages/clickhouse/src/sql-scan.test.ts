import { ClickHouseError } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { checkReadOnly, withSettingsClause } from './query-settings.ts';
import { scanStatement } from './sql-scan.ts';

describe('scanStatement', () => {
  it('finds the first keyword past comments of every kind, nested ones included', () => {
    expect(scanStatement('  -- c\n# c\n/* a /* b */ SELECT */ insert INTO t VALUES (1)').keyword).toBe(
      'INSERT',
    );
    expect(scanStatement('(SELECT 1) UNION ALL (SELECT 2)').keyword).toBe('SELECT');
    expect(scanStatement('').keyword).toBe('');
  });

  it('counts statements by top-level semicolons only', () => {
    expect(scanStatement('SELECT 1;').multiple).toBe(false);
    expect(scanStatement('SELECT 1; -- trailing\n').multiple).toBe(false);
    expect(scanStatement('SELECT 1; INSERT INTO t VALUES (1)').multiple).toBe(true);
    expect(scanStatement('SELECT \';\', "a;b", `c;d`, $$e;f$$, $x$g;h$x$ /* ; */ -- ;\n').multiple).toBe(
      false,
    );
    expect(scanStatement("SELECT 'it\\'s;' , 'a'';b'").multiple).toBe(false);
  });

  it("stops at an INSERT's inline data: its FORMAT name or VALUES, not words inside the data", () => {
    const sql = 'INSERT INTO t (format, values) FORMAT JSONEachRow\n{"a":"; SELECT 1; FORMAT x"}';
    const scan = scanStatement(sql);
    expect(scan.insertFormat).toBe('JSONEachRow');
    expect(sql.slice(scan.insertDataClause)).toMatch(/^FORMAT JSONEachRow/);
    expect(scan.multiple).toBe(false);
    const values = "INSERT INTO t VALUES ('a;b'); DROP";
    expect(values.slice(scanStatement(values).insertDataClause)).toMatch(/^VALUES/);
  });

  it('finds `{name:Type}` placeholders outside strings and comments, and a trailing FORMAT', () => {
    const sql =
      "SELECT {a:Array(String)}, '{b:String}' /* {c:UInt8} */ WHERE x = {d:Map(String, UInt8)}\nFORMAT JSON";
    const scan = scanStatement(sql);
    expect(scan.placeholders.map((p) => [p.name, p.type])).toEqual([
      ['a', 'Array(String)'],
      ['d', 'Map(String, UInt8)'],
    ]);
    expect(sql.slice(scan.trailingFormat)).toBe('FORMAT JSON');
    expect(scanStatement('SELECT format FROM t').trailingFormat).toBe(-1);
  });
});

describe('withSettingsClause', () => {
  const settings = { max_threads: 1 };
  it("goes before an INSERT's data, before a trailing FORMAT, or after the last token — on its own line", () => {
    expect(withSettingsClause('INSERT INTO t VALUES (1)', settings)).toBe(
      'INSERT INTO t \nSETTINGS max_threads = 1\nVALUES (1)',
    );
    expect(withSettingsClause('insert into t format TSV\n1\n', settings)).toBe(
      'insert into t \nSETTINGS max_threads = 1\nformat TSV\n1\n',
    );
    expect(withSettingsClause('SELECT 1 -- note\nFORMAT JSON', settings)).toBe(
      'SELECT 1 -- note\n\nSETTINGS max_threads = 1\nFORMAT JSON',
    );
    expect(withSettingsClause('SELECT 1 -- note', settings)).toBe(
      'SELECT 1\nSETTINGS max_threads = 1\n -- note',
    );
    expect(withSettingsClause('SELECT 1;', settings)).toBe('SELECT 1\nSETTINGS max_threads = 1\n');
  });
});

describe('checkReadOnly', () => {
  const readonly = { readonly: '2' } as const;
  it('lets reading statements through and refuses writes and second statements', () => {
    expect(() => checkReadOnly('/* x */ SELECT 1', readonly)).not.toThrow();
    expect(() => checkReadOnly('INSERT INTO t FORMAT LineAsString\nx', readonly)).toThrow(ClickHouseError);
    expect(() => checkReadOnly('SELECT 1; DROP TABLE t', readonly)).toThrow(/Multi-statements/);
    expect(() => checkReadOnly('/* /* */ SELECT */ DROP TABLE t', readonly)).toThrow(/readonly/);
    expect(() => checkReadOnly('DROP TABLE t', {})).not.toThrow();
  });
});
