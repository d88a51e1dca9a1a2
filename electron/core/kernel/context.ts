import type { DataSource } from 'typeorm';
import type { Clock } from './clock.js';
import type { EventBus } from './events.js';
import type { SecretBox } from './secrets.js';
import type { PrivateTemp } from './temp.js';

/**
 * What every part of the core is built with: the metadata store, the secret box, the event bus, the
 * clock, and the process's private temp folder (credential files, copies and staging go nowhere else).
 */
export interface CoreContext {
  db: DataSource;
  secrets: SecretBox;
  events: EventBus;
  clock: Clock;
  temp: PrivateTemp;
}
