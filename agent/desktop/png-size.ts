/** Width and height from a PNG's IHDR chunk, without decoding the image. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (png.length < 24 || view.getUint32(0) !== 0x89504e47 || view.getUint32(12) !== 0x49484452) {
    throw new Error('the screen capture did not return a PNG');
  }
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
