import { reference } from '@sparse/core';
import { describeConformance } from '../src/vitest.js';

// Core's reference backend (BlockMask path, float64) must pass every golden case, at two tile sizes.
describeConformance({ name: 'reference 32×32 tiles', create: () => reference() });
describeConformance({ name: 'reference 7×13 tiles', create: () => reference({ tiles: { blockQ: 7, blockK: 13 } }) });
