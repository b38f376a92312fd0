//! The functions' start-up on AWS: the contact-key secret comes from Secrets
//! Manager (moto here), never from the environment, and a secret that cannot key
//! opt-outs stops the function at init with a sentence saying why.

#![allow(clippy::unwrap_used)]

use kundpuls::wiring::aws::contact_key;

#[tokio::test]
async fn the_contact_key_is_read_from_secrets_manager_and_checked() {
    let sdk = kundpuls_tests::sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&sdk);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let good = format!("kundpuls/test/contact-key-{run}");
    let value = "0123456789abcdef0123456789abcdef";
    client
        .create_secret()
        .name(&good)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    assert_eq!(contact_key(&client, &good).await.unwrap(), value);
    // Too short to key anything.
    let short = format!("kundpuls/test/short-{run}");
    client
        .create_secret()
        .name(&short)
        .secret_string("tiny")
        .send()
        .await
        .unwrap();
    let e = contact_key(&client, &short).await.unwrap_err().to_string();
    assert!(
        e.contains("CONTACT_KEY_SECRET_ID") && e.contains("16 bytes"),
        "{e}"
    );
    assert!(!e.contains("tiny"), "the error shows the secret: {e}");
    // Missing.
    let e = contact_key(&client, &format!("kundpuls/test/none-{run}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("could not be read"), "{e}");
}
