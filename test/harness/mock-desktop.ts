import sharp from 'sharp';

/**
 * A desktop-like PNG for the browser tests (a window with a toolbar and a Save button), drawn
 * from SVG so the tests need no display. Returns the PNG and where the Save button's centre is.
 */
export async function mockDesktopPng(width = 1280, height = 800): Promise<{ png: Buffer; save: { x: number; y: number } }> {
  const save = { x: 0.62, y: 0.41 };
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#2d4a6b"/>
    <rect x="${width * 0.15}" y="${height * 0.12}" width="${width * 0.7}" height="${height * 0.7}" rx="8" fill="#f4f4f2"/>
    <rect x="${width * 0.15}" y="${height * 0.12}" width="${width * 0.7}" height="40" rx="8" fill="#dcdcd8"/>
    <text x="${width * 0.17}" y="${height * 0.12 + 26}" font-family="DejaVu Sans" font-size="18" fill="#222">notes.txt — Editor</text>
    <rect x="${width * save.x - 50}" y="${height * save.y - 18}" width="100" height="36" rx="6" fill="#1f5fbf"/>
    <text x="${width * save.x}" y="${height * save.y + 6}" font-family="DejaVu Sans" font-size="17" fill="#fff" text-anchor="middle">Save</text>
    <text x="${width * 0.18}" y="${height * 0.55}" font-family="DejaVu Sans" font-size="16" fill="#444">Meeting notes: rename todo_Jan_1 to todo_Jan_2</text>
  </svg>`;
  return { png: await sharp(Buffer.from(svg)).png().toBuffer(), save };
}
