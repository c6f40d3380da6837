using Messaging.Contracts.Protocol;
using Messaging.IntegrationTests.Harness;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Messaging.IntegrationTests.WebClient;

/// <summary>
/// The web client served by Edge (<c>/</c>), in headless Chromium against the real system: two
/// users in two browser sessions on the two Edge nodes, offline catch-up, history scrolling,
/// attachments, and the SSE fallback. The first test takes a screenshot (.local/test-results/web-client.png;
/// with <c>MESSAGING_UPDATE_SCREENSHOT=1</c>, the README's docs/images/web-client.png).
/// </summary>
public sealed class WebClientTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>A 64×64 PNG of four colour bands.</summary>
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAAYElEQVR42u3PMQ0AIAwAMCQuwRJiMMGHFh5EgId9S5rUQFubozYBAQEBAQEBAQEBgbS+bmkCAgICAgICAgICAvnA27UJCAgICAgICAgICOQDJ6I0AQEBAQEBAQEBAYG0D44uwXhC1pbQAAAAAElFTkSuQmCC");

    [Fact]
    public async Task Two_users_in_two_browsers_on_the_two_edge_nodes_converse_and_a_second_tab_shows_the_same_conversation()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPage = await browser.OpenAsync(0, ana, "laptop");
        var boPage = await browser.OpenAsync(1, bo, "phone");
        var chatId = DirectChatId(ana, bo);

        await anaPage.FillAsync("#direct-user", bo);
        await anaPage.ClickAsync("#new-direct button");
        await SendAsync(anaPage, "Hi Bo! Lunch at noon?");

        var boChat = boPage.Locator($"#chat-list li[data-chat-id='{chatId}']");
        await Expect(boChat.Locator(".unread")).ToHaveTextAsync("1");
        await Expect(boChat.Locator(".last")).ToContainTextAsync("Hi Bo! Lunch at noon?");
        await boChat.ClickAsync();
        await Expect(Bodies(boPage)).ToHaveTextAsync(["Hi Bo! Lunch at noon?"]);
        await Expect(boPage.Locator("#chat-presence")).ToHaveTextAsync("online");
        await Expect(anaPage.Locator("#messages li.message.mine .tick")).ToHaveAttributeAsync("data-tick", "read");

        await boPage.FillAsync("#text", "Sure — the usual place?");
        await boPage.PressAsync("#text", "Enter");
        await Expect(Bodies(anaPage)).ToHaveTextAsync(["Hi Bo! Lunch at noon?", "Sure — the usual place?"]);

        // Ana's second tab is a second device of hers: the same conversation, her sends included.
        var anaTab = await anaPage.Context.NewPageAsync();
        await browser.GotoAsync(anaTab, 1, ana, "tablet");
        await anaTab.ClickAsync($"#chat-list li[data-chat-id='{chatId}']");
        await Expect(Bodies(anaTab)).ToHaveTextAsync(["Hi Bo! Lunch at noon?", "Sure — the usual place?"]);
        await SendAsync(anaTab, "Yes, 12:00 at Luigi's");
        await Expect(Bodies(anaPage)).ToHaveTextAsync(["Hi Bo! Lunch at noon?", "Sure — the usual place?", "Yes, 12:00 at Luigi's"]);
        await Expect(Bodies(boPage)).ToHaveCountAsync(3);
        await boPage.SetInputFilesAsync("#file", new FilePayload { Name = "special.png", MimeType = "image/png", Buffer = Png });
        await SendAsync(boPage, "Today's special");
        await anaPage.WaitForFunctionAsync("() => { const img = document.querySelector('#messages .attachment img'); return img && img.complete && img.naturalWidth === 64; }");

        await boPage.Locator("#text").PressSequentiallyAsync("On my way");
        await Expect(anaPage.Locator("#typing")).ToHaveTextAsync($"{bo} is typing…");
        await Expect(anaPage.Locator("#messages li.message.mine .tick").Last).ToHaveAttributeAsync("data-tick", "read");

        // Into .local/ by default: a test run must not rewrite a committed file (every run changed
        // the README's image by a few pixels). MESSAGING_UPDATE_SCREENSHOT=1 replaces the README's.
        var screenshot = Environment.GetEnvironmentVariable("MESSAGING_UPDATE_SCREENSHOT") == "1"
            ? Path.Combine(ServiceProcess.RepoRoot(), "docs", "images", "web-client.png")
            : Path.Combine(ServiceProcess.RepoRoot(), ".local", "test-results", "web-client.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await anaPage.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot });
        new FileInfo(screenshot).Length.Should().BeGreaterThan(10_000, "a rendered conversation, not a blank page");
    }

    [Fact]
    public async Task The_offline_user_sees_what_was_sent_while_away_after_reconnecting_and_a_send_during_a_drop_arrives_once()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPage = await browser.OpenAsync(0, ana, "laptop");
        var boPage = await browser.OpenAsync(1, bo, "phone");
        var chatId = DirectChatId(ana, bo);
        await anaPage.FillAsync("#direct-user", bo);
        await anaPage.ClickAsync("#new-direct button");
        await SendAsync(anaPage, "first");
        await Expect(boPage.Locator($"#chat-list li[data-chat-id='{chatId}']")).ToBeVisibleAsync();

        await boPage.Context.CloseAsync();
        await SendAsync(anaPage, "while you were away 1");
        await SendAsync(anaPage, "while you were away 2");
        await Expect(anaPage.Locator("#messages li.message.mine .tick[data-tick='sent']")).ToHaveCountAsync(2);

        var boAgain = await browser.OpenAsync(0, bo, "phone");
        var boChat = boAgain.Locator($"#chat-list li[data-chat-id='{chatId}']");
        // Unread is per device (docs/protocol.md, "History and chats over HTTP"): what this device
        // had not received; "first" reached it before it went offline.
        await Expect(boChat.Locator(".unread")).ToHaveTextAsync("2");
        await boChat.ClickAsync();
        await Expect(Bodies(boAgain)).ToHaveTextAsync(["first", "while you were away 1", "while you were away 2"]);

        // A dropped connection: the send made meanwhile waits in the outbox and goes out after the
        // reconnect (sync, then the resend with the same clientMsgId): it arrives exactly once.
        await anaPage.EvaluateAsync("() => window.chatApp.session.drop()");
        await SendAsync(anaPage, "sent during the drop");
        await Expect(anaPage.Locator("#status")).ToHaveAttributeAsync("data-state", "online");
        await Expect(Bodies(boAgain)).ToHaveTextAsync(["first", "while you were away 1", "while you were away 2", "sent during the drop"]);
        await Expect(anaPage.Locator("#messages li.message.mine .tick").Last).ToHaveAttributeAsync("data-tick", "read");
    }

    [Fact]
    public async Task A_group_is_created_and_administered_from_the_page()
    {
        var (ana, bo, cy) = (Unique("ana"), Unique("bo"), Unique("cy"));
        var anaPage = await browser.OpenAsync(0, ana, "laptop");
        var boPage = await browser.OpenAsync(1, bo, "phone");
        var cyPage = await browser.OpenAsync(1, cy, "phone");

        await anaPage.FillAsync("#group-title", "Trip");
        await anaPage.FillAsync("#group-members", bo);
        await anaPage.ClickAsync("#new-group button");
        await Expect(anaPage.Locator("#chat-title")).ToHaveTextAsync("Trip");
        await SendAsync(anaPage, "Who's in?");
        await boPage.Locator("#chat-list li.chat", new() { HasText = "Trip" }).ClickAsync();
        await Expect(Bodies(boPage)).ToHaveTextAsync(["Who's in?"]);

        await anaPage.ClickAsync("#members summary");
        await anaPage.FillAsync("#member-user", cy);
        await anaPage.ClickAsync("#member-add");
        await Expect(anaPage.Locator("#messages li.event").Last).ToHaveTextAsync($"you added {cy}");
        await Expect(cyPage.Locator("#chat-list li.chat", new() { HasText = "Trip" })).ToBeVisibleAsync();

        await anaPage.FillAsync("#member-user", bo);
        await anaPage.ClickAsync("#member-admin");
        await Expect(boPage.Locator("#chat-presence")).ToContainTextAsync("you are an admin");
        await boPage.ClickAsync("#members summary");
        await boPage.FillAsync("#member-user", cy);
        await boPage.ClickAsync("#member-remove");
        await Expect(anaPage.Locator("#messages li.event").Last).ToHaveTextAsync($"{bo} removed {cy}");
    }

    [Fact]
    public async Task History_scrolls_backwards_page_by_page_to_the_first_message()
    {
        var (dan, cy) = (Unique("dan"), Unique("cy"));
        // cy's phone registers first; the browser is a later device, so its inbox starts at its
        // registration and only history brings the older messages.
        var cyPhone = await browser.System.ConnectAsync(1, cy, "phone");
        var danPhone = await browser.System.ConnectAsync(0, dan, "phone");
        var chatId = await danPhone.CreateChatAsync([cy], "long story");
        for (var i = 1; i <= 75; i++)
        {
            await danPhone.SendMessageAsync(chatId, $"message {i}");
        }

        await cyPhone.WaitForAsync<MessageFrame>(m => m.ChatId == chatId && m.Body == "message 75", TimeSpan.FromSeconds(60));
        // The page's chat list and history come from the chat read model, which lags the pushes:
        // a list loaded before the projection has the chat never shows it (the web device's sync
        // starts at its registration, after these messages).
        await Projected.HistoryAsync(cyPhone, chatId, h => h.Messages.Any(m => m.Body == "message 75"), TimeSpan.FromSeconds(60), "message 75 in cy's history");
        var page = await browser.OpenAsync(0, cy, "web");
        await page.ClickAsync($"#chat-list li[data-chat-id='{chatId}']");
        var messages = page.Locator("#messages li.message");
        await Expect(messages.Last.Locator(".body")).ToHaveTextAsync("message 75");
        (await messages.CountAsync()).Should().BeLessThan(75, "the first page is the newest messages only");

        for (var page_ = 0; page_ < 10 && !(await page.Locator(".history-edge").TextContentAsync())!.Contains("beginning", StringComparison.Ordinal); page_++)
        {
            var before = await messages.CountAsync();
            await page.EvaluateAsync("() => { const list = document.querySelector('#messages'); list.scrollTop = 0; list.dispatchEvent(new Event('scroll')); }");
            await page.WaitForFunctionAsync(
                "n => document.querySelectorAll('#messages li.message').length > n || document.querySelector('.history-edge').textContent.includes('beginning')",
                before);
        }

        await Expect(messages).ToHaveCountAsync(75);
        await Expect(messages.First.Locator(".body")).ToHaveTextAsync("message 1");
        await Expect(page.Locator(".history-edge")).ToHaveTextAsync("beginning of the conversation");
    }

    [Fact]
    public async Task An_attachment_uploads_straight_to_storage_and_the_other_user_sees_the_image()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPage = await browser.OpenAsync(1, ana, "laptop");
        var boPage = await browser.OpenAsync(0, bo, "phone");
        await anaPage.FillAsync("#direct-user", bo);
        await anaPage.ClickAsync("#new-direct button");

        await anaPage.SetInputFilesAsync("#file", new FilePayload { Name = "bands.png", MimeType = "image/png", Buffer = Png });
        await SendAsync(anaPage, "the poster");

        await Expect(anaPage.Locator("#upload-progress")).ToHaveJSPropertyAsync("value", 1);
        await boPage.ClickAsync($"#chat-list li[data-chat-id='{DirectChatId(ana, bo)}']");
        var image = boPage.Locator("#messages li.message .attachment img");
        await Expect(image).ToHaveAttributeAsync("alt", "bands.png");
        await boPage.WaitForFunctionAsync("() => { const img = document.querySelector('#messages .attachment img'); return img && img.complete && img.naturalWidth === 64; }");
        await Expect(anaPage.Locator("#messages .attachment img")).ToHaveJSPropertyAsync("naturalWidth", 64);
    }

    [Fact]
    public async Task The_sse_fallback_carries_a_conversation_forced_by_the_url_or_when_websockets_cannot_open()
    {
        var (ana, bo) = (Unique("ana"), Unique("bo"));
        var anaPage = await browser.OpenAsync(0, ana, "laptop", "&transport=sse");
        await Expect(anaPage.Locator("#status")).ToHaveAttributeAsync("data-transport", "sse");

        // bo's network breaks WebSockets (a proxy that refuses upgrades): the client falls back by itself.
        var context = await (await browser.BrowserAsync()).NewContextAsync();
        await context.AddInitScriptAsync("""
            window.WebSocket = class { constructor() { setTimeout(() => this.onclose?.({ code: 1006, reason: '' }), 10); } send() {} close() {} };
            window.WebSocket.OPEN = 1;
            """);
        var boPage = await context.NewPageAsync();
        await browser.GotoAsync(boPage, 1, bo, "phone");
        await Expect(boPage.Locator("#status")).ToHaveAttributeAsync("data-transport", "sse");

        await anaPage.FillAsync("#direct-user", bo);
        await anaPage.ClickAsync("#new-direct button");
        await SendAsync(anaPage, "over server-sent events");
        await boPage.ClickAsync($"#chat-list li[data-chat-id='{DirectChatId(ana, bo)}']");
        await Expect(Bodies(boPage)).ToHaveTextAsync(["over server-sent events"]);
        await SendAsync(boPage, "and posts back");
        await Expect(Bodies(anaPage)).ToHaveTextAsync(["over server-sent events", "and posts back"]);
        await Expect(anaPage.Locator("#messages li.message.mine .tick")).ToHaveAttributeAsync("data-tick", "read");

        // A dropped event stream reconnects (EventSource resumes or a new session syncs) and keeps working.
        await boPage.EvaluateAsync("() => window.chatApp.session.drop()");
        await SendAsync(anaPage, "after the drop");
        await Expect(Bodies(boPage)).ToHaveTextAsync(["over server-sent events", "and posts back", "after the drop"]);
    }

    private static ILocator Bodies(IPage page) => page.Locator("#messages li.message .body");

    private static async Task SendAsync(IPage page, string text)
    {
        await page.FillAsync("#text", text);
        await page.ClickAsync("#composer button[type=submit]");
    }

    private static string DirectChatId(string a, string b) => string.CompareOrdinal(a, b) < 0 ? $"d:{a}:{b}" : $"d:{b}:{a}";

    private static string Unique(string name) => name + "-" + Guid.NewGuid().ToString("N")[..4];
}
