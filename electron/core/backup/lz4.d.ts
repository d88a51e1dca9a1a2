// lz4 0.6 ships no types; these are the two streams DataGuardian uses.
declare module 'lz4' {
  import type { Transform } from 'node:stream';
  interface EncoderOptions {
    blockMaxSize?: number;
    highCompression?: boolean;
    blockChecksum?: boolean;
    streamChecksum?: boolean;
  }
  const lz4: {
    createEncoderStream(options?: EncoderOptions): Transform;
    createDecoderStream(): Transform;
  };
  export default lz4;
}
