import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageFileName } from '../../../src/platforms/_kit/wecom-media.ts';
import { FAKE_PNG } from '../../helpers/wecom.ts';

describe('WeCom media upload', () => {
  it('names uploads after their bytes', () => {
    assert.equal(imageFileName(FAKE_PNG).name, 'image.png');
    assert.equal(imageFileName(Buffer.from('GIF89a....')).name, 'image.gif');
    assert.equal(imageFileName(Buffer.from([0xff, 0xd8, 0xff, 0xe0])).name, 'image.jpg');
  });
});
