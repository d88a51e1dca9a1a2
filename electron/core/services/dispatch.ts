import { channelOf, type Group } from '../../../shared/contract.js';
import { AppError, validationError, type Result } from '../../../shared/errors.js';
import { scoped } from '../kernel/log.js';
import type { Handlers } from './handlers.js';

const log = scoped('dispatch');

export type Dispatch = (name: string, input: unknown) => Promise<Result<unknown>>;

/**
 * The one way into core, for every transport: look up, parse input, call, and answer
 * `{ok, data}` or `{ok:false, error}`. Errors never cross a boundary as thrown objects.
 * `checkOutput` (on in tests) also parses each answer with the channel's output schema.
 */
export function createDispatch(handlers: Handlers, options: { checkOutput?: boolean } = {}): Dispatch {
  return async (name, input) => {
    const channel = channelOf(name);
    const [group, method] = name.split('.') as [Group, string];
    const handler = (handlers[group] as Record<string, ((i: unknown) => Promise<unknown>) | undefined> | undefined)?.[method];
    if (!channel || !handler) return { ok: false, error: { code: 'not_found', message: `Unknown channel: ${name}` } };
    const parsed = channel.input.safeParse(input ?? {});
    if (!parsed.success) return { ok: false, error: validationError(parsed.error).toJSON() };
    try {
      const data = await handler(parsed.data);
      if (options.checkOutput) {
        const checked = channel.output.safeParse(data);
        if (!checked.success) throw new Error(`${name} answered outside its contract: ${checked.error.message}`);
        return { ok: true, data: checked.data };
      }
      return { ok: true, data };
    } catch (e) {
      if (e instanceof AppError) return { ok: false, error: e.toJSON() };
      log.error(`${name} failed`, e);
      return { ok: false, error: { code: 'internal', message: (e as Error)?.message || 'Unexpected error' } };
    }
  };
}
