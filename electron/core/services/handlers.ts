import type { z } from 'zod';
import type { Contract, Group } from '../../../shared/contract.js';

type HandlerOf<C> = C extends { input: infer I extends z.ZodType; output: infer O extends z.ZodType } ? (input: z.output<I>) => Promise<z.input<O>> : never;

/** The services' handler map, derived from the contract: a channel without a handler does not compile. */
export type Handlers = { [G in Group]: { [M in keyof Contract[G]]: HandlerOf<Contract[G][M]> } };
