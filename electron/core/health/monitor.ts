import type { EventPayload } from '../../../shared/contract.js';
import { Datasources, StorageLocations } from '../db/entities.js';
import { scoped } from '../kernel/log.js';
import { readSettings } from '../kernel/settings.js';
import { forgetRemoved } from './conditions.js';
import { checkDatasource, type HealthContext } from './datasource.js';
import { checkOverdue, OVERDUE_GRACE_MS } from './overdue.js';
import { checkStorage } from './storage.js';

const log = scoped('health');

/**
 * Every `system.health_check_interval_ms` (on the app's Clock): checks every enabled datasource and
 * every storage, all at once and each with its own timeout, then looks for overdue jobs. A changed
 * interval takes effect at once (counted from the last cycle); a completed backup clears its job's
 * overdue alert without waiting for the next cycle. Cycles never overlap.
 */
export class HealthMonitor {
  private stopped = true;
  private chain: Promise<void> = Promise.resolve();
  private cancelTimer: (() => void) | undefined;
  private readonly stops: (() => void)[] = [];
  private lastCycle: Date | undefined;
  /** Overdue jobs are judged only after this: right after a start, the scheduler's catch-up goes first. */
  private judgeFrom = new Date(0);

  constructor(private readonly ctx: HealthContext) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.judgeFrom = new Date(this.ctx.clock.now().getTime() + OVERDUE_GRACE_MS);
    this.stops.push(
      this.ctx.events.onAny((name, payload) => {
        if (name === 'entity.changed' && (payload as EventPayload<'entity.changed'>).entity === 'settings') void this.enqueue(() => this.rearm());
        else if (name === 'execution.status' && (payload as EventPayload<'execution.status'>).status === 'completed') void this.enqueue(() => this.overdue());
      }),
    );
    void this.runOnce();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    for (const stop of this.stops.splice(0)) stop();
    await this.settled();
  }

  /** One full cycle now (after any running one); resolves when it is done. */
  runOnce(): Promise<void> {
    return this.enqueue(() => this.cycle());
  }

  /** Resolves once no cycle is running or waiting (tests move their clock, then wait for this). */
  async settled(): Promise<void> {
    for (let seen; seen !== this.chain;) {
      seen = this.chain;
      await seen;
    }
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const next = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (e) {
        log.error('the health checks could not run', e);
      }
    });
    this.chain = next;
    return next;
  }

  private async cycle(): Promise<void> {
    this.lastCycle = this.ctx.clock.now();
    try {
      const settings = await readSettings(this.ctx.db);
      const datasources = await this.ctx.db.getRepository(Datasources).find({ where: { enabled: true } });
      const storages = await this.ctx.db.getRepository(StorageLocations).find();
      await Promise.all([
        ...datasources.map((row) =>
          checkDatasource(this.ctx, row).catch((e: unknown) => log.error(`the health check of datasource ${row.name} could not be recorded`, e)),
        ),
        ...storages.map((row) =>
          checkStorage(this.ctx, row, settings).catch((e: unknown) => log.error(`the health check of storage ${row.name} could not be recorded`, e)),
        ),
      ]);
      await checkOverdue(this.ctx, settings, this.judgeFrom);
      await forgetRemoved(this.ctx);
    } finally {
      await this.rearm();
    }
  }

  private async overdue(): Promise<void> {
    await checkOverdue(this.ctx, await readSettings(this.ctx.db), this.judgeFrom);
  }

  /** The next cycle: one interval after the last one began (at once if that is past). */
  private async rearm(): Promise<void> {
    if (this.stopped || !this.lastCycle) return;
    const every = (await readSettings(this.ctx.db))['system.health_check_interval_ms'];
    this.cancelTimer?.();
    const at = new Date(this.lastCycle.getTime() + every);
    this.cancelTimer = this.ctx.clock.at(at, () => void this.runOnce());
  }
}
