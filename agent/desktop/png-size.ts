/**
 * Width and height from a PNG's IHDR chunk, without decoding the image. `notPng` is the message
 * when the bytes are not a PNG (the caller knows where they came from).
 */
export function pngSize(png: Uint8Array, notPng = 'the screen capture did not return a PNG'): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  if (png.length < 24 || view.getUint32(0) !== 0x89504e47 || view.getUint32(12) !== 0x49484452) {
    throw new Error(notPng);
  }
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
