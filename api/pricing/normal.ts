/**
 * The standard normal distribution: the CDF `normalCdf` and the bivariate
 * normal probability `bivariateNormalCdf`, accurate to about 1e-7 absolute,
 * enough for prices quoted to two decimals.
 */

/** Complementary error function (Numerical Recipes' erfcc, fractional error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * P(Z ≤ z) for a standard normal Z.
 *
 * ```ts
 * normalCdf(1.96); // ≈ 0.975
 * ```
 */
export function normalCdf(z: number): number {
  if (z === Number.POSITIVE_INFINITY) return 1;
  if (z === Number.NEGATIVE_INFINITY) return 0;
  return 0.5 * erfc(-z / Math.SQRT2);
}

// Gauss–Legendre nodes and weights (half sets) for 6, 12 and 20 points, as in Genz (2004).
const GL = [
  {
    w: [0.1713244923791705, 0.3607615730481384, 0.4679139345726904],
    x: [0.9324695142031522, 0.6612093864662647, 0.238619186083197],
  },
  {
    w: [0.04717533638651177, 0.1069393259953183, 0.1600783285433464, 0.2031674267230659, 0.2334925365383547, 0.2491470458134029],
    x: [0.9815606342467191, 0.904117256370475, 0.769902674194305, 0.5873179542866171, 0.3678314989981802, 0.1252334085114692],
  },
  {
    w: [
      0.01761400713915212, 0.04060142980038694, 0.06267204833410906, 0.08327674157670475, 0.1019301198172404, 0.1181945319615184,
      0.1316886384491766, 0.1420961093183821, 0.1491729864726037, 0.1527533871307259,
    ],
    x: [
      0.9931285991850949, 0.9639719272779138, 0.9122344282513259, 0.8391169718222188, 0.7463319064601508, 0.636053680726515,
      0.5108670019508271, 0.3737060887154196, 0.2277858511416451, 0.07652652113349733,
    ],
  },
] as const;

/**
 * P(X > h, Y > k) for standard normals X, Y with correlation `r`:
 * Genz's method ("Numerical computation of rectangular bivariate and
 * trivariate normal and t probabilities", 2004).
 */
function bivariateNormalUpper(h: number, k: number, r: number): number {
  if (h === Number.POSITIVE_INFINITY || k === Number.POSITIVE_INFINITY) return 0;
  if (h === Number.NEGATIVE_INFINITY) return k === Number.NEGATIVE_INFINITY ? 1 : normalCdf(-k);
  if (k === Number.NEGATIVE_INFINITY) return normalCdf(-h);
  const { w, x } = Math.abs(r) < 0.3 ? GL[0] : Math.abs(r) < 0.75 ? GL[1] : GL[2];
  let hk = h * k;
  let bvn = 0;
  if (Math.abs(r) < 0.925) {
    const hs = (h * h + k * k) / 2;
    const asr = Math.asin(r);
    for (let i = 0; i < w.length; i++) {
      let sn = Math.sin((asr * (1 - x[i]!)) / 2);
      bvn += w[i]! * Math.exp((sn * hk - hs) / (1 - sn * sn));
      sn = Math.sin((asr * (1 + x[i]!)) / 2);
      bvn += w[i]! * Math.exp((sn * hk - hs) / (1 - sn * sn));
    }
    return (bvn * asr) / (4 * Math.PI) + normalCdf(-h) * normalCdf(-k);
  }
  if (r < 0) {
    k = -k;
    hk = -hk;
  }
  if (Math.abs(r) < 1) {
    const as = (1 - r) * (1 + r);
    let a = Math.sqrt(as);
    const bs = (h - k) ** 2;
    const c = (4 - hk) / 8;
    const d = (12 - hk) / 16;
    bvn = a * Math.exp(-(bs / as + hk) / 2) * (1 - (c * (bs - as) * (1 - (d * bs) / 5)) / 3 + (c * d * as * as) / 5);
    if (hk > -160) {
      const b = Math.sqrt(bs);
      bvn -= Math.exp(-hk / 2) * Math.sqrt(2 * Math.PI) * normalCdf(-b / a) * b * (1 - (c * bs * (1 - (d * bs) / 5)) / 3);
    }
    a /= 2;
    for (let i = 0; i < w.length; i++) {
      for (const sign of [-1, 1]) {
        const xs = (a * (sign * x[i]! + 1)) ** 2;
        const rs = Math.sqrt(1 - xs);
        const asr = -(bs / xs + hk) / 2;
        if (asr > -100) {
          bvn += a * w[i]! * Math.exp(asr) * (Math.exp((-hk * xs) / (2 * (1 + rs) ** 2)) / rs - (1 + c * xs * (1 + d * xs)));
        }
      }
    }
    bvn = -bvn / (2 * Math.PI);
  }
  if (r > 0) return bvn + normalCdf(-Math.max(h, k));
  if (h >= k) return -bvn;
  const between = h < 0 ? normalCdf(k) - normalCdf(h) : normalCdf(-h) - normalCdf(-k);
  return between - bvn;
}

/**
 * P(X ≤ h, Y ≤ k) for standard normals X, Y with correlation `r` in [-1, 1].
 *
 * ```ts
 * bivariateNormalCdf(0, 0, 0); // ≈ 0.25
 * bivariateNormalCdf(0, 0, 0.5); // ≈ 1/3
 * ```
 */
export function bivariateNormalCdf(h: number, k: number, r: number): number {
  const p = bivariateNormalUpper(-h, -k, r);
  return Math.min(1, Math.max(0, p));
}
