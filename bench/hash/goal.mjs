// The goals of the hash benchmark (issue 5): `dit hash` against sha256sum, against its own
// TypeScript path (DIT_NATIVE=0), and as a share of the all-core SHA-256 limit (openssl speed -multi).

export const HASH_GOALS = Object.freeze({ vsSha256sum: 8, vsTypeScript: 2, ofLimit: 0.7 });
