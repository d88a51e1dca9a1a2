// The app's core in a process of its own, for tests that kill it (kill -9) mid-run: it starts on the
// given data dir and metadata database, runs one job, prints the execution's id, and stays up.
import { startCore } from '../../electron/core/app.js';

const { DG_DATA_DIR: dataDir, DATABASE_URL: databaseUrl, DG_TEST_LEASE: lease, DG_TEST_RUN_JOB: jobId } = process.env;
if (!dataDir || !databaseUrl || !jobId) throw new Error('DG_DATA_DIR, DATABASE_URL and DG_TEST_RUN_JOB are required');

const core = await startCore({ mode: 'headless', dataDir, databaseUrl, ...(lease ? { lease: JSON.parse(lease) as Record<string, number> } : {}) });
const answer = await core.dispatch('jobs.run', { id: jobId });
console.log(JSON.stringify(answer));
// Kept alive by the running execution; this keeps it alive after, until the test kills it.
setInterval(() => undefined, 60_000);
