import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequenceCommits } from '../../../src/platforms/_kit/sequence-commits.ts';

describe('SequenceCommits', () => {
  it('moves to a sequence number only once every dispatch before it is done', () => {
    const committed: number[] = [];
    const commits = new SequenceCommits((seq) => committed.push(seq));
    const [done5, done6, done7] = [commits.begin(5), commits.begin(6), commits.begin(7)];
    done6();
    done7();
    assert.deepEqual(committed, [], '5 is still being stored');
    done5();
    assert.deepEqual(committed, [7]);
  });

  it('stays before a dispatch that never completes, however many after it do', () => {
    const committed: number[] = [];
    const commits = new SequenceCommits((seq) => committed.push(seq));
    commits.begin(1)();
    commits.begin(2); // its store failed: never done
    commits.begin(3)();
    commits.begin(4)();
    assert.deepEqual(committed, [1]);
  });
});
