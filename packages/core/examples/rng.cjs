// A seeded generator whose state can be saved with a checkpoint (CommonJS).
const { Rng } = require('@vitlens/core');

const rng = new Rng(42);
console.log(rng.next()); // 0.6606157226487994
console.log(rng.int(10)); // 7
console.log(Array.from(new Rng(42).permutation(5))); // [ 3, 0, 2, 1, 4 ]
console.log(new Rng(42).getState()); // { s: [ 939911724, 3948730756, 321366731, 3317318717 ], spareNormal: null }

// Restoring a saved state continues the same stream.
const saved = rng.getState();
const a = rng.next();
console.log(Rng.fromState(saved).next() === a); // true
