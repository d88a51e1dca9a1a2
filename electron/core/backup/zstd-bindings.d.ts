// @mongodb-js/zstd 1.2 types only its wrapper; its native binding takes the compression level the wrapper drops.
declare module '@mongodb-js/zstd/bindings.js' {
  export function compress(data: Buffer, level?: number | null): Promise<Buffer>;
}
