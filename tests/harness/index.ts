// Real servers on loopback for the integration tests. Each start* returns once
// a real client got through; each stop() ends the server and removes its temp
// folder, and anything a test forgets is ended when the test process exits.
export { tempDir, removeTempDir, type TempDirOptions } from './cleanup.js';
export { freePort } from './ports.js';
export { startPostgres, postgresBinDir, type PgServer } from './postgres.js';
export { startMariadb, type MariaServer } from './mariadb.js';
export { startSshd, type SshServer } from './sshd.js';
export { startS3, type S3Server } from './s3.js';
