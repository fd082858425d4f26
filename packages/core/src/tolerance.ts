/**
 * How close a backend's result must be to the float64 reference: |out - gold| <= atol + rtol·|gold| and
 * |lse - gold| <= lseAtol + 2⁻²²·|gold| (docs/design.md, "Conformance").
 */
export interface Tolerance {
  atol: number;
  rtol: number;
  lseAtol: number;
}

/** What float32 storage with float32 accumulation meets: the golden cases' default. */
export const FLOAT32_TOLERANCE: Readonly<Tolerance> = Object.freeze({ atol: 1e-5, rtol: 1e-4, lseAtol: 1e-5 });
