import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitText } from '../../../src/platforms/_kit/split-text.ts';

/** Discord's limit, which these cases were written for. */
const splitDiscordContent = (text: string) => splitText(text, 2000);

describe('splitText', () => {
  it('keeps text of 2000 characters or fewer whole', () => {
    assert.deepEqual(splitDiscordContent('a'.repeat(2000)), ['a'.repeat(2000)]);
    assert.deepEqual(splitDiscordContent('short'), ['short']);
  });

  it('cuts at the last line break in the second half, dropping it', () => {
    const first = 'x'.repeat(1500);
    const second = 'y'.repeat(900);
    assert.deepEqual(splitDiscordContent(`${first}\n${second}`), [first, second]);
  });

  it('cuts at a space when no line break is near, and hard when there is neither', () => {
    const words = `${'a'.repeat(1200)} ${'b'.repeat(1200)}`;
    assert.deepEqual(splitDiscordContent(words), ['a'.repeat(1200), 'b'.repeat(1200)]);
    const solid = 'c'.repeat(4500);
    const parts = splitDiscordContent(solid);
    assert.ok(parts.every((part) => part.length <= 2000));
    assert.equal(parts.join(''), solid);
  });

  it('never cuts through a surrogate pair', () => {
    const emoji = '😀'.repeat(1500); // 3000 UTF-16 units
    const parts = splitDiscordContent(emoji);
    assert.ok(parts.every((part) => part.length <= 2000 && !/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(part)));
    assert.equal(parts.join(''), emoji);
  });

  it('closes a code block a cut leaves open and opens it again, with its language, in the next part', () => {
    const code = Array.from({ length: 150 }, (_, i) => `const line${i} = ${i};`).join('\n');
    const parts = splitDiscordContent(`Here:\n\`\`\`ts\n${code}\n\`\`\`\ndone`);
    assert.equal(parts.length, 2);
    assert.ok(parts.every((part) => part.length <= 2000));
    assert.ok(parts[0]!.endsWith('\n```'));
    assert.ok(parts[1]!.startsWith('```ts\n'));
    assert.ok(parts[1]!.endsWith('```\ndone'));
    for (const part of parts) assert.equal(part.split('\n').filter((line) => line.startsWith('```')).length % 2, 0, 'every part has its fences paired');
  });
});
