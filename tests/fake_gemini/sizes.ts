/**
 * Pixel sizes and output-token counts per model, ratio and size
 * (gemini-api.md §1.1 and §5.1).
 */

/**
 * Google's 1K table for Gemini 3 Pro Image; 2K and 4K are exact doubles and
 * quadruples of it. The four extended ratios are not in Google's table: they
 * keep the same ~1 megapixel area on a 16-pixel grid with the exact ratio.
 */
const BASE_1K: Record<string, readonly [number, number]> = {
  "1:1": [1024, 1024],
  "2:3": [848, 1264],
  "3:2": [1264, 848],
  "3:4": [896, 1200],
  "4:3": [1200, 896],
  "4:5": [928, 1152],
  "5:4": [1152, 928],
  "9:16": [768, 1376],
  "16:9": [1376, 768],
  "21:9": [1584, 672],
  "1:4": [512, 2048],
  "4:1": [2048, 512],
  "1:8": [368, 2944],
  "8:1": [2944, 368],
};

const SCALE: Record<string, number> = { "512": 0.5, "1K": 1, "2K": 2, "4K": 4 };

/** Output tokens per image for the Flash family (Nano Banana 2, 2.1, 2 Lite). */
const FLASH_TOKENS: Record<string, number> = {
  "512": 747,
  "1K": 1120,
  "2K": 1680,
  "4K": 2520,
};

/** Width and height in pixels of an image of that ratio and size tier. */
export function pixelSize(
  ratio: string,
  size: string,
): { width: number; height: number } {
  const base = BASE_1K[ratio];
  const scale = SCALE[size];
  if (!base || scale === undefined) {
    throw new RangeError(
      `Cannot size image: unknown ratio ${ratio} or size ${size}`,
    );
  }
  return { width: base[0] * scale, height: base[1] * scale };
}

/** Output tokens billed for one image of that model and size. */
export function imageTokens(modelId: string, size: string): number {
  if (modelId === "gemini-2.5-flash-image") return 1290;
  if (modelId === "gemini-3-pro-image") return size === "4K" ? 2000 : 1120;
  return FLASH_TOKENS[size] ?? 1120;
}

/** Orders ratios as Google lists them in errors: by width term, then height term. */
export function sortRatios(ratios: readonly string[]): string[] {
  return [...ratios].sort((a, b) => {
    const [aw = 0, ah = 0] = a.split(":").map(Number);
    const [bw = 0, bh = 0] = b.split(":").map(Number);
    return aw - bw || ah - bh;
  });
}

/** "'a', 'b', or 'c'" as in Google's "must be one of" messages. */
export function oneOf(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  if (quoted.length < 2) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")}, or ${quoted.at(-1)}`;
}
