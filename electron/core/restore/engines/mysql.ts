import { AppError } from '../../../../shared/errors.js';
import type { ServerConnectionConfig } from '../../../../shared/schemas/datasource.js';
import { mysqlConnection, mysqlDefaults } from '../../engines/mysql.js';
import { mysqlTool } from '../../engines/tools.js';
import { runTool } from './tool.js';
import type { Restorer } from './types.js';

const quoteIdent = (name: string) => `\`${name.replace(/`/g, '``')}\``;

export const mysqlRestorer: Restorer = {
  async restore(config, artifactPath, o) {
    const c = config as ServerConnectionConfig;
    const conn = await mysqlConnection(c, null);
    let mariadb: boolean;
    try {
      const [version] = (await conn.query('SELECT VERSION() AS v')) as unknown as [{ v: string }[]];
      mariadb = /mariadb/i.test(version[0]!.v);
      if (o.createDatabase) {
        const [found] = (await conn.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [c.database])) as unknown as [unknown[]];
        if (found.length) throw new AppError('conflict', `Database ${c.database} already exists: choose a new name, or restore onto the datasource itself`);
        await conn.query(`CREATE DATABASE ${quoteIdent(c.database)}`);
        o.log('info', `Created database ${c.database}`);
      }
    } finally {
      await conn.end().catch(() => undefined);
    }
    const tool = await mysqlTool('client', mariadb, o.toolDirs.mysql);
    const defaults = mysqlDefaults(c, o);
    // The dump has no CREATE DATABASE/USE (it is made without --databases): it lands in the database named here.
    o.log('info', `Running ${tool} into ${c.database}`);
    try {
      return { engine_output: await runTool(tool, [`--defaults-extra-file=${defaults.path}`, '--batch', c.database], { stdinFile: artifactPath, signal: o.signal }) };
    } finally {
      defaults.remove();
    }
  },

  async summarize(config) {
    const c = config as ServerConnectionConfig;
    const conn = await mysqlConnection(c);
    try {
      const [tables] = (await conn.query(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
        [c.database],
      )) as unknown as [{ name: string }[]];
      let rows = 0;
      for (const t of tables) {
        const [r] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteIdent(t.name)}`)) as unknown as [{ n: number | string }[]];
        rows += Number(r[0]!.n);
      }
      return { tables: tables.length, rows };
    } finally {
      await conn.end().catch(() => undefined);
    }
  },
};
