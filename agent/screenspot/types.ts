/** ScreenSpot's plain data, free of Node so that the renderer can use the types. */

/** A target box in image pixels; both edges belong to the box. */
export interface PixelBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface PixelPoint {
  readonly x: number;
  readonly y: number;
}

export interface Tally {
  readonly total: number;
  readonly correct: number;
  /** correct / total, 0 when there is nothing. */
  readonly accuracy: number;
}

export interface AccuracySummary {
  readonly overall: Tally;
  readonly byDataType: Record<string, Tally>;
  readonly byPlatform: Record<string, Tally>;
  readonly byApplication: Record<string, Tally>;
  readonly byGroup: Record<string, Tally>;
}

/** One line of the results file: everything needed to rescore or report without the model. */
export interface ScreenSpotResult {
  readonly id: string;
  readonly imageFile: string;
  readonly instruction: string;
  readonly box: PixelBox;
  readonly imageSize: { readonly width: number; readonly height: number };
  readonly point: PixelPoint | null;
  readonly correct: boolean;
  readonly dataType: string;
  readonly platform?: string;
  readonly application?: string;
  readonly group?: string;
  /** The model's reply as it came. */
  readonly raw: string;
  readonly ms: number;
}
