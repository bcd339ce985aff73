// Scene b: history shows up in a page that comes late, in the default room
// and in a room it joins; "Load older messages" pages back to the start,
// without moving what the reader is looking at, and a message arriving
// while one reads older ones does not pull the view down.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  TIMEOUT, joinRoom, login, messageTexts, openPage, say, sharedScene, startTcpClient,
  waitForMessage,
} from './scene.mjs';

const KEPT = 40; // --history: what a newcomer is sent; the rest is paged from disk
const TOTAL = 100; // two pages of 50 beyond what is kept: a full one, then a short one

const scene = sharedScene({ args: ['--history', String(KEPT), '--rate-limit', '0'] });

const numbered = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => `message ${from + i}`);

test('a late page sees history, pages back, and keeps its place', async () => {
  const alice = await openPage(scene.browser, scene.server);
  await login(alice.page, 'alice');
  const carol = startTcpClient(scene.server, 'carol');
  try {
    await carol.waitForLine('* welcome carol');
    for (const text of numbered(1, TOTAL - 1)) carol.send(text);
    await waitForMessage(alice.page, 'carol', `message ${TOTAL - 1}`);
    // Acked with --data-dir means stored, and so is everything accepted before it.
    await say(alice.page, `message ${TOTAL}`);

    await joinRoom(alice.page, 'dev');
    for (const text of ['dev one', 'dev two', 'dev three']) await say(alice.page, text);

    const bob = await openPage(scene.browser, scene.server);
    await login(bob.page, 'bob');
    await waitForMessage(bob.page, 'alice', `message ${TOTAL}`);
    assert.deepEqual(await messageTexts(bob.page), numbered(TOTAL - KEPT + 1, TOTAL),
      'the newcomer gets the room\'s kept history, oldest first');

    // Reading from the top: the first message stays where it is on screen
    // while the older page is put above it.
    const scroller = bob.page.locator('#scroller');
    await scroller.evaluate((el) => { el.scrollTop = 0; });
    const firstKept = bob.page.locator('#scroller li.message', { hasText: `message ${TOTAL - KEPT + 1}` }).locator('.text');
    const topBefore = (await firstKept.boundingBox()).y;
    const older = bob.page.getByRole('button', { name: 'Load older messages' });
    await older.click();
    await waitForMessage(bob.page, 'carol', `message ${TOTAL - KEPT - 49}`);
    const topAfter = (await firstKept.boundingBox()).y;
    assert.ok(Math.abs(topAfter - topBefore) <= 2,
      `the message read stays put when older ones come above (moved ${topAfter - topBefore}px)`);
    assert.deepEqual(await messageTexts(bob.page), numbered(TOTAL - KEPT - 49, TOTAL));

    await scroller.evaluate((el) => { el.scrollTop = 0; });
    await older.click();
    await waitForMessage(bob.page, 'carol', 'message 1');
    assert.deepEqual(await messageTexts(bob.page), numbered(1, TOTAL), 'every message once, in order');
    await bob.page.getByText('This is the start of the history.').waitFor();
    assert.equal(await bob.page.getByRole('button', { name: 'Load older messages' }).isVisible(), false);

    // A live message while reading older ones: no yank, a way down instead.
    const scrolledTo = await scroller.evaluate((el) => el.scrollTop);
    carol.send('said while bob reads');
    await waitForMessage(bob.page, 'carol', 'said while bob reads');
    assert.equal(await scroller.evaluate((el) => el.scrollTop), scrolledTo);
    const jump = bob.page.getByRole('button', { name: 'New messages below' });
    await jump.waitFor();
    await jump.click();
    await bob.page.waitForFunction(() => {
      const el = document.getElementById('scroller');
      return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
    }, null, { timeout: TIMEOUT });

    // A room joined later brings its own history.
    await joinRoom(bob.page, 'dev');
    await waitForMessage(bob.page, 'alice', 'dev three');
    assert.deepEqual(await messageTexts(bob.page), ['dev one', 'dev two', 'dev three']);
    assert.equal(await bob.page.locator('#scroller li.message.mine').count(), 0);

    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  } finally {
    await carol.close();
  }
});
