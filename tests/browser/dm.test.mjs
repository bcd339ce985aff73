// Scene c: direct messages between two pages, and between a page and the
// terminal client, each way; they open a conversation of their own with an
// unread count, and stay out of the room.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  login, messageTexts, openPage, openView, say, sharedScene, startTcpClient, waitForMessage,
} from './scene.mjs';

const scene = sharedScene();

test('direct messages page to page and with the TCP client', async () => {
  const alice = await openPage(scene.browser, scene.server);
  const bob = await openPage(scene.browser, scene.server);
  await login(alice.page, 'alice');
  await login(bob.page, 'bob');
  const carol = startTcpClient(scene.server, 'carol');
  try {
    await carol.waitForLine('* welcome carol');
    await alice.page.getByRole('button', { name: 'Send bob a direct message' }).waitFor();

    // From the list of who is online, alice opens a conversation with bob.
    await alice.page.getByRole('button', { name: 'Send bob a direct message' }).click();
    await alice.page.locator('#conversation-title', { hasText: 'bob' }).waitFor();
    await say(alice.page, 'psst, lunch?');

    // bob is in the lobby: the message waits in a conversation with a count.
    const fromAlice = bob.page.locator('#dm-list .view-button', { hasText: 'alice' });
    await fromAlice.locator('.badge', { hasText: '1' }).waitFor();
    assert.equal(await bob.page.title(), '(1) chat');
    assert.deepEqual(await messageTexts(bob.page), [], 'a direct message is not shown in the room');
    await openView(bob.page, 'alice');
    await waitForMessage(bob.page, 'alice', 'psst, lunch?');
    assert.equal(await fromAlice.locator('.badge').count(), 0, 'reading it clears the count');
    assert.equal(await bob.page.title(), 'chat');
    await say(bob.page, 'yes, 12:30');
    await waitForMessage(alice.page, 'bob', 'yes, 12:30');

    // The terminal client writes to a page...
    carol.send('/msg bob from the terminal: can I join?');
    await bob.page.locator('#dm-list .view-button', { hasText: 'carol' }).waitFor();
    await openView(bob.page, 'carol');
    await waitForMessage(bob.page, 'carol', 'from the terminal: can I join?');
    // ...and the page answers it.
    await say(bob.page, 'sure, meet at the door');
    await carol.waitForLine('[dm] bob: sure, meet at the door');

    // A direct message to nobody is an error the page shows, code and text.
    await bob.page.getByLabel('Name to message').fill('nobody');
    await bob.page.getByRole('button', { name: 'Open' }).click();
    await bob.page.locator('#composer-text').fill('hello?');
    await bob.page.locator('#composer-text').press('Enter');
    const error = bob.page.locator('#error-list li', { hasText: 'no-such-user' });
    await error.waitFor();
    assert.match(await error.textContent(), /Message to nobody not delivered/);
    await bob.page.locator('#scroller li.message.failed', { hasText: 'hello?' }).waitFor();

    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  } finally {
    await carol.close();
  }
});
