/**
 * A data set held in memory as float32 rows. Values are what the likelihood sees before any
 * per-epoch binarisation: intensities in [0, 1] for image sets, real numbers for synthetic ones.
 */
export interface Dataset {
  /** `mnist`, `fashion-mnist`, `linear-gaussian`, … */
  readonly name: string;
  /** Row-major values, `rows × dim`. */
  readonly x: Float32Array;
  readonly rows: number;
  /** Width P of a row (784 for 28×28 images). */
  readonly dim: number;
  /** Class labels where the set has them. */
  readonly labels?: Uint8Array;
  /** Image shape for pictures (`[28, 28]`), where rows are images. */
  readonly imageShape?: readonly [number, number];
  /**
   * How batches are binarised: `dynamic` (a fresh Bernoulli draw every time a batch is made),
   * `static` (already binarised once, with a seed, when the set was made) or `none`.
   */
  readonly binarize: 'dynamic' | 'static' | 'none';
}
