// lz4 0.6 ships no types; these are the parts DataGuardian uses: the decoder stream, and the native block encoder
// (the C library's LZ4_compress_default and LZ4_compress_HC, writing into `output`; 0 when it does not fit).
declare module 'lz4' {
  import type { Transform } from 'node:stream';
  const lz4: {
    createDecoderStream(): Transform;
    /** A whole LZ4 stream (frames) decoded at once. */
    decode(input: Buffer): Buffer;
    encodeBound(size: number): number;
    encodeBlock(input: Buffer, output: Buffer, start: number, end: number): number;
    encodeBlockHC(input: Buffer, output: Buffer): number;
  };
  export default lz4;
}
