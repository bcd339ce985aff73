// Scene e: text that looks like markup is shown as the text it is, in room
// messages, direct messages and topics, from a page and from the terminal
// client, and no element comes of it: no image, no bold, no script, no
// handler run, no dialog, nothing the Content-Security-Policy had to refuse.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  login, messageTexts, openPage, openView, say, sharedScene, startTcpClient, waitForMessage,
} from './scene.mjs';

const PAYLOADS = [
  '<img src=x onerror="window.__pwned = \'img\'">',
  '<b>bold?</b> <i>italic?</i>',
  '<script>window.__pwned = \'script\'</script>',
  '"><svg onload="window.__pwned = \'svg\'"></svg>',
  '&lt;b&gt; stays &amp; as typed',
];
const TOPIC = '<b>release</b> <img src=x onerror="window.__pwned = \'topic\'">';
const FROM_TERMINAL = '<a href="javascript:window.__pwned=1">click</a> <marquee>hi</marquee>';

const scene = sharedScene();

async function injectedElements(page) {
  return page.evaluate(() => ({
    // The page's own markup has none of these where people's text goes.
    elements: [...document.querySelectorAll(
      ':is(#main, #errors, #status) :is(img, b, i, script, svg, a, marquee), script:not([src])')]
      .map((el) => el.outerHTML),
    images: document.images.length,
    pwned: window.__pwned ?? null,
  }));
}

test('markup in messages and topics is literal text', async () => {
  const alice = await openPage(scene.browser, scene.server);
  const bob = await openPage(scene.browser, scene.server);
  const dialogs = [];
  for (const { page } of [alice, bob]) {
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      dialog.dismiss();
    });
  }
  await login(alice.page, 'alice');
  await login(bob.page, 'bob');
  const carol = startTcpClient(scene.server, 'carol');
  try {
    await carol.waitForLine('* welcome carol');
    for (const text of PAYLOADS) await say(bob.page, text);
    carol.send(FROM_TERMINAL);
    await waitForMessage(alice.page, 'carol', FROM_TERMINAL);
    for (const text of PAYLOADS) await waitForMessage(alice.page, 'bob', text);
    assert.deepEqual(await messageTexts(alice.page), [...PAYLOADS, FROM_TERMINAL]);
    // The sender's own copies are text too.
    await waitForMessage(bob.page, 'carol', FROM_TERMINAL);
    assert.deepEqual(await messageTexts(bob.page), [...PAYLOADS, FROM_TERMINAL]);

    await bob.page.getByRole('button', { name: 'Topic' }).click();
    await bob.page.getByLabel('Topic', { exact: true }).fill(TOPIC);
    await bob.page.getByRole('button', { name: 'Set' }).click();
    await alice.page.locator('#conversation-topic').filter({ hasText: 'release' }).waitFor();
    assert.equal(await alice.page.locator('#conversation-topic').textContent(), TOPIC);
    await alice.page.locator('#scroller li.notice', { hasText: 'bob set the topic' }).waitFor();

    await bob.page.getByRole('button', { name: 'Send alice a direct message' }).click();
    await say(bob.page, PAYLOADS[0]);
    await openView(alice.page, 'bob');
    await waitForMessage(alice.page, 'bob', PAYLOADS[0]);

    for (const { page } of [alice, bob]) {
      assert.deepEqual(await injectedElements(page), { elements: [], images: 0, pwned: null });
    }
    assert.deepEqual(dialogs, []);
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  } finally {
    await carol.close();
  }
});
