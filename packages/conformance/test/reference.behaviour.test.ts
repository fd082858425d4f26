import { reference } from '@sparse/core';
import { describeBehaviour } from '../src/vitest.js';

// Core's reference backend through the behaviour suite. reference() runs a dilated call as one loop unless asked:
// the suite passes { partitionDilation: true } for its pieces check, and create forwards it.
describeBehaviour({ name: 'reference', create: (o) => reference(o) });
