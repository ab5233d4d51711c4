// Several databases on one PostgreSQL server, each in its own schema (test
// files, several instances): migrating one must not fail because another
// schema is dropped at that moment. Kysely's migrator introspects every
// schema, and PostgreSQL answers 3F000 for one that vanished mid-query.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { migrateToLatest } from "../../db/migrate.ts";
import { freshDatabase, postgresUrl } from "../helpers/databases.ts";

describe.runIf(postgresUrl)("migrations on a shared PostgreSQL server", () => {
  it("migrate fresh schemas while other schemas come and go", async () => {
    const churn = new pg.Client({ connectionString: postgresUrl });
    await churn.connect();
    let stop = false;
    const churning = (async () => {
      for (let i = 0; !stop; i++) {
        const name = `churn_${process.pid}_${i}`;
        await churn.query(`CREATE SCHEMA ${name}`);
        await churn.query(`CREATE TABLE ${name}.t (id serial primary key, v text)`);
        await churn.query(`DROP SCHEMA ${name} CASCADE`);
      }
    })();
    try {
      for (let round = 0; round < 6; round++) {
        const database = await freshDatabase("postgres", false);
        try {
          const report = await migrateToLatest(database.db);
          expect(report.applied.length).toBeGreaterThan(0);
        } finally {
          await database.drop();
        }
      }
    } finally {
      stop = true;
      await churning;
      await churn.end();
    }
  });
});
