import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binIndex, binWidth, formatEpoch, histogramBins, HISTOGRAM_BINS } from '../../../pipeline/projections/profiler/histogram.ts';

describe('histogram binning', () => {
  it('splits [min, max] into 15 equal bins; max falls in the last bin', () => {
    assert.equal(HISTOGRAM_BINS, 15);
    assert.equal(binWidth(-3, 12), 1);
    assert.equal(binIndex(-3, -3, 1), 0);
    assert.equal(binIndex(-2.5, -3, 1), 0);
    assert.equal(binIndex(0, -3, 1), 3);
    assert.equal(binIndex(11.99, -3, 1), 14);
    assert.equal(binIndex(12, -3, 1), 14, 'the maximum is in the last bin, not a 16th');
    assert.equal(binIndex(-10, -3, 1), 0, 'clamped below');
  });

  it('labels bins with their edges and fills missing bins with zero counts', () => {
    const bins = histogramBins(0, 30, new Map([[0, 2], [14, 1]]));
    assert.equal(bins.length, 15);
    assert.deepEqual(bins[0], { start: 0, end: 2, count: 2 });
    assert.deepEqual(bins[1], { start: 2, end: 4, count: 0 });
    assert.deepEqual(bins[14], { start: 28, end: 30, count: 1 });
    assert.equal(bins.reduce((n, b) => n + b.count, 0), 3);
  });

  it('ends the last bin exactly at max despite floating point', () => {
    const bins = histogramBins(0.1, 0.7, new Map());
    assert.equal(bins[14]!.end, 0.7);
    assert.equal(bins[0]!.start, 0.1);
  });

  it('makes one bin for a single value and none for no values', () => {
    assert.equal(binWidth(5, 5), 0);
    assert.equal(binIndex(5, 5, 0), 0);
    assert.deepEqual(histogramBins(5, 5, new Map(), { total: 4 }), [{ start: 5, end: 5, count: 4 }]);
    assert.deepEqual(histogramBins(5, 5, new Map(), { total: 0 }), []);
  });

  it('labels date bins as DuckDB prints dates and timestamps', () => {
    const day = 86_400;
    const jan1 = Date.UTC(2024, 0, 1) / 1000;
    const bins = histogramBins(jan1, jan1 + 30 * day, new Map([[0, 1]]), { label: (e) => formatEpoch(e, 'date') });
    assert.equal(bins[0]!.start, '2024-01-01');
    assert.equal(bins[1]!.start, '2024-01-03');
    assert.equal(bins[14]!.end, '2024-01-31');
    assert.equal(formatEpoch(jan1 + 3600.5, 'timestamp'), '2024-01-01 01:00:00.500');
    assert.equal(formatEpoch(jan1 + 3600, 'date'), '2024-01-01 01:00:00', 'a date bin edge inside a day shows the time');
  });
});
