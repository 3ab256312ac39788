//! Mail through a real SMTP server process (`server mail-sink`) with the
//! real worker and lettre: arrival with a working link, nothing lost while
//! the SMTP server is down, no double sends with two workers.

use std::{collections::HashMap, time::Duration};

use app::server::outbox::{self, MailKind, OutgoingMail};
use server::mailer::spawn_mail_worker;
use sqlx::PgPool;

use crate::helpers::{client, fns, mailer_config, spawn, MailSink, GOOD_PASSWORD};

fn per_recipient(messages: &[crate::helpers::ReceivedMail]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for message in messages {
        *counts.entry(message.to.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// Waits until the row's delivery is recorded (the sink has the message a
/// moment before the worker commits).
async fn settled(pool: &PgPool, id: i64) -> (Option<String>, Option<String>, i32, Option<String>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (done, text, html, attempts, error): (
            bool,
            Option<String>,
            Option<String>,
            i32,
            Option<String>,
        ) = sqlx::query_as(
            "SELECT sent_at IS NOT NULL OR cancelled_at IS NOT NULL, body_text, body_html,
                    attempts, last_error
               FROM outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("row");
        if done {
            return (text, html, attempts, error);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "row {id} never settled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn queue(pool: &PgPool, recipients: &[String]) {
    let mut tx = pool.begin().await.expect("tx");
    for recipient in recipients {
        outbox::enqueue(
            &mut tx,
            &OutgoingMail {
                kind: MailKind::VerifyEmail,
                workspace_id: None,
                membership_id: None,
                recipient: recipient.clone(),
                subject: format!("Hello {recipient}"),
                body_text: "plain body".into(),
                body_html: "<p>html body</p>".into(),
            },
        )
        .await
        .expect("enqueue");
    }
    tx.commit().await.expect("commit");
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn an_invitation_arrives_with_a_working_link(pool: PgPool) {
    let sink = MailSink::start();
    let worker = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    let app = spawn(pool.clone()).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    let invited = app
        .run(fns::InviteMembers {
            addresses: "zoe@example.com".into(),
            send_email: true,
            group_ids: Default::default(),
            all_projects: true,
            project_ids: Default::default(),
        })
        .await;
    assert!(invited.status().is_success());

    let messages = sink.wait_for(2, Duration::from_secs(20)).await;
    let mail = messages
        .iter()
        .find(|m| m.to == "zoe@example.com")
        .expect("the invitation");
    assert!(
        mail.subject.contains("Olive Owner invited you"),
        "{}",
        mail.subject
    );
    assert!(mail.html.contains("Accept the invitation"));
    assert!(mail.text.contains("The link works once and until"));
    let link = mail
        .text
        .split_whitespace()
        .find(|w| w.contains("/invite/"))
        .expect("link in the text part");
    // Links point at PUBLIC_URL; this test server stands in for it.
    let public = crate::helpers::settings().public_origin;
    assert!(link.starts_with(&format!("{public}/invite/")), "{link}");
    let link = link.replacen(&public, &app.base, 1);
    // The link opens the accept page and accepts.
    let page = client()
        .get(&link)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Join") && page.contains("Olive") && page.contains("Create account and join"),
        "the accept page names the workspace"
    );
    let token = link.rsplit('/').next().unwrap_or_default();
    let accepted = client()
        .post(format!("{}/api/accept_invitation", app.base))
        .header("accept", "application/json")
        .form(&[
            ("token", token),
            ("name", "Zoë Zed"),
            ("password", GOOD_PASSWORD),
        ])
        .send()
        .await
        .expect("accept");
    assert!(accepted.status().is_success(), "{}", accepted.status());

    // Sent rows keep no live link.
    let bodies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL AND body_text IS NOT NULL",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(bodies, 0);
    worker.abort();
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn invitations_made_while_smtp_is_down_all_arrive_once_when_it_is_back(pool: PgPool) {
    let mut sink = MailSink::start();
    let (port, dir) = (sink.port, sink.dir.clone());
    let config = mailer_config(&sink);
    sink.stop();
    let worker = spawn_mail_worker(pool.clone(), config).expect("worker");

    let app = spawn(pool.clone()).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    sqlx::query("UPDATE workspaces SET plan = 'pro', seats = 500")
        .execute(&pool)
        .await
        .expect("plan");
    for batch in 0..4 {
        let addresses: Vec<String> = (0..25)
            .map(|i| format!("person{}@example.com", batch * 25 + i))
            .collect();
        let response = app
            .run(fns::InviteMembers {
                addresses: addresses.join(", ").to_owned(),
                send_email: true,
                group_ids: Default::default(),
                all_projects: true,
                project_ids: Default::default(),
            })
            .await;
        assert!(response.status().is_success(), "{}", response.status());
    }
    // The worker tries, fails, and keeps the mail with its error.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let failed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM outbox WHERE kind = 'invitation' AND attempts > 0
                AND last_error IS NOT NULL AND sent_at IS NULL",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        if failed > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never tried"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let sink = MailSink::start_on(port, dir);
    let messages = sink.wait_for(101, Duration::from_secs(60)).await;
    // Give a double send the chance to show up before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let counts = per_recipient(&sink.messages());
    for i in 0..100 {
        assert_eq!(
            counts.get(&format!("person{i}@example.com")),
            Some(&1),
            "person{i}"
        );
    }
    assert_eq!(
        messages.len().max(counts.values().sum()),
        101,
        "100 invitations + 1 verification"
    );
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(unsent, 0);
    worker.abort();
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn two_workers_send_each_message_once(pool: PgPool) {
    let sink = MailSink::start();
    let recipients: Vec<String> = (0..200).map(|i| format!("r{i}@example.com")).collect();
    queue(&pool, &recipients).await;
    let first = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    let second = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    sink.wait_for(200, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let counts = per_recipient(&sink.messages());
    assert_eq!(counts.len(), 200);
    assert!(counts.values().all(|n| *n == 1), "a message was sent twice");
    first.abort();
    second.abort();
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_revoked_invitation_is_never_mailed(pool: PgPool) {
    let sink = MailSink::start();
    let app = spawn(pool.clone()).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    app.run(fns::InviteMembers {
        addresses: "gone@example.com".into(),
        send_email: true,
        group_ids: Default::default(),
        all_projects: true,
        project_ids: Default::default(),
    })
    .await;
    let id: i64 =
        sqlx::query_scalar("SELECT id FROM memberships WHERE invited_email = 'gone@example.com'")
            .fetch_one(&pool)
            .await
            .expect("pending");
    let revoked = app.run(fns::RevokeInvite { membership_id: id }).await;
    assert!(revoked.status().is_success());
    // Only now does a worker start: the verification mail goes, the invitation does not.
    let worker = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    queue(&pool, &["marker@example.com".to_owned()]).await;
    let messages = sink.wait_for(2, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        sink.messages().iter().all(|m| m.to != "gone@example.com"),
        "{messages:?}"
    );
    worker.abort();
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_queued_message_arrives_whole_and_its_row_keeps_no_body(pool: PgPool) {
    let sink = MailSink::start();
    // Non-ASCII everywhere and a link long enough to be wrapped by the
    // transfer encoding: what arrives must decode back to the same text.
    let link = format!(
        "https://teamroom.example/invite/{}?from=z%C3%B6e&x=1",
        "a".repeat(64)
    );
    let text = format!("Zoë Zed invited you to Ünïcode GmbH ✓\n\nOpen {link}\n");
    let html = format!("<p>Zoë Zed invited you.</p><p><a href=\"{link}\">Accept</a></p>");
    let mut tx = pool.begin().await.expect("tx");
    let id = outbox::enqueue(
        &mut tx,
        &OutgoingMail {
            kind: MailKind::Invitation,
            workspace_id: None,
            membership_id: None,
            recipient: "zoe@example.com".into(),
            subject: "Zoë Zed invited you to Ünïcode GmbH".into(),
            body_text: text.clone(),
            body_html: html.clone(),
        },
    )
    .await
    .expect("enqueue");
    tx.commit().await.expect("commit");
    let worker = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");

    let messages = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.to, "zoe@example.com");
    assert_eq!(mail.from, "no-reply@teamroom.localhost");
    assert_eq!(mail.subject, "Zoë Zed invited you to Ünïcode GmbH");
    assert_eq!(mail.text.replace("\r\n", "\n").trim_end(), text.trim_end());
    assert!(mail.html.contains(&link), "{}", mail.html);
    assert!(mail.html.contains("Zoë Zed invited you."));

    let (body_text, body_html, attempts, error) = settled(&pool, id).await;
    let sent: bool = sqlx::query_scalar("SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("row");
    assert!(sent);
    assert_eq!(
        (body_text, body_html),
        (None, None),
        "the live link is erased"
    );
    assert_eq!((attempts, error), (1, None));
    worker.abort();
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_cancelled_message_is_never_sent(pool: PgPool) {
    let sink = MailSink::start();
    let recipients: Vec<String> = ["keep1", "drop", "keep2"]
        .iter()
        .map(|n| format!("{n}@example.com"))
        .collect();
    queue(&pool, &recipients).await;
    sqlx::query("UPDATE outbox SET cancelled_at = now() WHERE recipient = 'drop@example.com'")
        .execute(&pool)
        .await
        .expect("cancel");
    let worker = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    sink.wait_for(2, Duration::from_secs(20)).await;
    // A later message goes too, so the worker has looked at the outbox again.
    queue(&pool, &["marker@example.com".to_owned()]).await;
    sink.wait_for(3, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let counts = per_recipient(&sink.messages());
    assert_eq!(counts.get("drop@example.com"), None, "{counts:?}");
    assert_eq!(counts.len(), 3);
    let (sent, attempts): (bool, i32) = sqlx::query_as(
        "SELECT sent_at IS NOT NULL, attempts FROM outbox WHERE recipient = 'drop@example.com'",
    )
    .fetch_one(&pool)
    .await
    .expect("row");
    assert_eq!((sent, attempts), (false, 0));
    worker.abort();
}

#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_malformed_address_is_given_up_at_once_and_the_rest_still_goes(pool: PgPool) {
    let sink = MailSink::start();
    let recipients = vec!["not an address".to_owned(), "fine@example.com".to_owned()];
    queue(&pool, &recipients).await;
    let bad: i64 = sqlx::query_scalar("SELECT id FROM outbox WHERE recipient = 'not an address'")
        .fetch_one(&pool)
        .await
        .expect("row");
    let worker = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    let messages = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(messages[0].to, "fine@example.com");
    let (body_text, _, attempts, error) = settled(&pool, bad).await;
    let (cancelled, sent): (bool, bool) = sqlx::query_as(
        "SELECT cancelled_at IS NOT NULL, sent_at IS NOT NULL FROM outbox WHERE id = $1",
    )
    .bind(bad)
    .fetch_one(&pool)
    .await
    .expect("row");
    assert!(cancelled && !sent);
    assert_eq!((body_text, attempts), (None, 1));
    let error = error.unwrap_or_default();
    assert!(error.starts_with("invalid address"), "{error}");
    // Not retried: still one attempt a while later.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let attempts: i32 = sqlx::query_scalar("SELECT attempts FROM outbox WHERE id = $1")
        .bind(bad)
        .fetch_one(&pool)
        .await
        .expect("row");
    assert_eq!(attempts, 1);
    assert_eq!(sink.messages().len(), 1);
    worker.abort();
}

/// An SMTP server that answers `550 5.1.1` for one invitee: that message is
/// given up on (retrying cannot create the mailbox), the others arrive, and
/// the pending member's row on the Team page says delivery is failing and
/// why, in the list's data and in the page.
#[sqlx::test(migrator = "server::MIGRATOR")]
async fn a_refused_address_shows_on_its_pending_row_and_the_rest_are_sent(pool: PgPool) {
    let sink = MailSink::start_rejecting(&["ghost@example.com"]);
    let worker = spawn_mail_worker(pool.clone(), mailer_config(&sink)).expect("worker");
    let app = spawn(pool.clone()).await;
    app.sign_up("olive@example.com", "Olive Owner", GOOD_PASSWORD)
        .await;
    let invited = app
        .run(fns::InviteMembers {
            addresses: "ghost@example.com, ann@example.com, bob@example.com".into(),
            send_email: true,
            group_ids: Default::default(),
            all_projects: true,
            project_ids: Default::default(),
        })
        .await;
    assert!(invited.status().is_success(), "{}", invited.status());

    // The two good invitations (and Olive's verification mail) arrive.
    let messages = sink.wait_for(3, Duration::from_secs(20)).await;
    let counts = per_recipient(&messages);
    assert_eq!(counts.get("ann@example.com"), Some(&1));
    assert_eq!(counts.get("bob@example.com"), Some(&1));
    assert_eq!(counts.get("ghost@example.com"), None);
    let ghost: i64 = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE recipient = 'ghost@example.com' AND kind = 'invitation'",
    )
    .fetch_one(&pool)
    .await
    .expect("ghost's message");
    let (_, _, attempts, error) = settled(&pool, ghost).await;
    assert_eq!(attempts, 1, "a permanent refusal is not retried");
    assert_eq!(error.as_deref(), Some("550 5.1.1 mailbox unavailable"));

    // The Team list's data: only ghost's row carries the reason.
    let listed = app
        .run(fns::ListMembers {
            view: app::domain::directory::DirectoryParams {
                status: Some("all".into()),
                sort: Some("name".into()),
                ..Default::default()
            },
            after: None,
        })
        .await;
    assert_eq!(listed.status(), 200);
    let page: app::api::members::MemberPage = listed.json().await.expect("a page");
    for row in &page.rows {
        let expected = (row.email.as_deref() == Some("ghost@example.com"))
            .then_some("550 5.1.1 mailbox unavailable");
        assert_eq!(row.delivery_error.as_deref(), expected, "{:?}", row.email);
    }
    assert!(page
        .rows
        .iter()
        .any(|r| r.email.as_deref() == Some("ghost@example.com")
            && r.status == app::domain::MemberStatus::Pending));

    // The page itself, as the browser first gets it.
    let html = app
        .client
        .get(format!("{}/team?status=all", app.base))
        .send()
        .await
        .expect("team page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("Delivery failing: ") && html.contains("550 5.1.1 mailbox unavailable"),
        "the Team page shows the failure on the pending row"
    );
    worker.abort();
}
