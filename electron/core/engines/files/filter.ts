import picomatch from 'picomatch';
import type { ConnectionConfig } from '../../../../shared/schemas/datasource.js';

export interface Filter {
  include: (rel: string) => boolean;
  exclude: (rel: string) => boolean;
}

// `*.jpg` matches at any depth (basename); `temp/*` matches a path from the source folder.
export function filterOf(c: ConnectionConfig<'files'>): Filter {
  const opts = { dot: true, basename: true };
  const excludeGlob = c.exclude_patterns.length ? picomatch(c.exclude_patterns, opts) : () => false;
  const dirExclude = c.exclude_patterns.length
    ? picomatch(
        c.exclude_patterns.map((p) => p.replace(/\/\*+$/, '')),
        opts,
      )
    : () => false;
  return {
    include: c.include_patterns.length ? picomatch(c.include_patterns, opts) : () => true,
    exclude: (rel) => excludeGlob(rel) || dirExclude(rel),
  };
}
