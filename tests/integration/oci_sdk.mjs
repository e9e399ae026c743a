// oci_sdk.mjs - the real OCI TypeScript SDK (npm oci-email, oci-emaildataplane,
// oci-common, pinned in tests/package.json) against ph-httpd, unchanged but for
// the endpoint. Driven by test_https.py through the environment:
//   PH_ENDPOINT (https://127.0.0.1:PORT), PH_TENANCY, PH_USER, PH_FINGERPRINT,
//   PH_KEY_FILE, PH_COMPARTMENT, PH_TEST_ID, PH_WORKDIR; NODE_EXTRA_CA_CERTS
//   trusts the stack's self-signed certificate.
// It writes an OCI config file, creates an approved sender and a suppression,
// submits one message with submitEmail and one with submitRawEmail, creates an
// email domain and a DKIM key (waiting on their work requests with the SDK's
// waiter), checks the details the SDK's response types declare (etags,
// if-match honoured with 412 NoEtagMatch, Location on a 202, the domain
// CREATING then ACTIVE, smtpSubmitEndpoint), and prints one JSON line with
// what the service answered. Its last check, submitRawEmail's messageId
// being bare (no leading space, no angle brackets), fails the script after
// that line, so test_https.py checks everything else first.
import { createRequire } from "module";
import fs from "fs";
import path from "path";
import { Readable } from "stream";

const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname),
    "..", "package.json"));
const common = require("oci-common");
const email = require("oci-email");
const dp = require("oci-emaildataplane");

const env = process.env;
const cfgPath = path.join(env.PH_WORKDIR, "oci-config");
fs.writeFileSync(cfgPath, `[DEFAULT]\nuser=${env.PH_USER}\nfingerprint=${env.PH_FINGERPRINT}\n` +
    `tenancy=${env.PH_TENANCY}\nregion=us-ashburn-1\nkey_file=${env.PH_KEY_FILE}\n`);
const provider = new common.ConfigFileAuthenticationDetailsProvider(cfgPath, "DEFAULT");
const cp = new email.EmailClient({ authenticationDetailsProvider: provider });
cp.endpoint = env.PH_ENDPOINT;
const dpc = new dp.EmailDPClient({ authenticationDetailsProvider: provider });
dpc.endpoint = env.PH_ENDPOINT;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// refused - what the service answered to a call that must fail
async function refused(fn) {
  try {
    await fn();
  } catch (e) {
    return { status: e.statusCode, code: e.serviceCode, message: e.message };
  }
  throw new Error("the call was not refused");
}

// retried404 - a new sender reaches ph-httpd's policy replica a moment later
async function retried404(fn) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (e.statusCode !== 404 || i > 50) throw e;
      await sleep(100);
    }
  }
}

const tid = env.PH_TEST_ID;
const sender = await cp.createSender({ createSenderDetails: {
  compartmentId: env.PH_COMPARTMENT, emailAddress: `sdk-${tid.slice(0, 8)}@source.test` } });
const supp = await cp.createSuppression({ createSuppressionDetails: {
  compartmentId: env.PH_TENANCY, emailAddress: "sdk-gone@dest.test" } });
const got = await cp.getSender({ senderId: sender.sender.id });
const submit = await retried404(() => dpc.submitEmail({ submitEmailDetails: {
  sender: { senderAddress: { email: sender.sender.emailAddress, name: "SDK Sender" },
    compartmentId: env.PH_COMPARTMENT },
  recipients: { to: [{ email: "sdk-ok@dest.test" }, { email: "sdk-gone@dest.test" }] },
  subject: `sdk ${tid}`, bodyText: `hello from the OCI SDK ${tid}\n`,
  headerFields: { "X-Test-Id": tid } } }));
// the SDK reads binary bodies from a stream (it refuses a Buffer)
const rawId = `sdk-raw-${tid}@source.test`;
const rawText = Buffer.from(`From: ${sender.sender.emailAddress}\r\nTo: sdk-ok@dest.test\r\n` +
    `Subject: sdk raw ${tid}\r\nMessage-ID: <${rawId}>\r\nX-Test-Id: ${tid}\r\n\r\n` +
    `raw from the OCI SDK\r\n`);
const raw = await retried404(() => dpc.submitRawEmail({
  contentType: dp.requests.SubmitRawEmailRequest.ContentType.MessageRfc822,
  compartmentId: env.PH_COMPARTMENT, sender: sender.sender.emailAddress,
  recipients: ["sdk-ok@dest.test", "sdk-gone@dest.test"],
  contentLength: rawText.length, rawMessage: Readable.from([rawText]) }));
// asynchronous operations: the SDK's waiter polls the work request until it
// has finished
const waiters = cp.createWaiters({ terminationStrategy: new common.MaxTimeTerminationStrategy(30) });
const domain = await cp.createEmailDomain({ createEmailDomainDetails: {
  name: `sdk-${tid.slice(0, 8)}.test`, compartmentId: env.PH_COMPARTMENT,
  description: "made by the OCI SDK" } });
const domainWr = await waiters.forWorkRequest({ workRequestId: domain.opcWorkRequestId });
const dkim = await cp.createDkim({ createDkimDetails: {
  emailDomainId: domain.emailDomain.id, name: "sdk1", description: "SDK key" } });
const dkimWr = await waiters.forWorkRequest({ workRequestId: dkim.opcWorkRequestId });
const dkims = await cp.listDkims({ emailDomainId: domain.emailDomain.id,
  sortBy: email.requests.ListDkimsRequest.SortBy.Name,
  sortOrder: email.models.SortOrder.Asc });

// etags and if-match: a sender of its own is deleted with a wrong etag
// (refused), then with the one its create answered
const doomed = await cp.createSender({ createSenderDetails: {
  compartmentId: env.PH_COMPARTMENT, emailAddress: `sdk-del-${tid.slice(0, 8)}@source.test` } });
const wrongEtag = await refused(() => cp.deleteSender({ senderId: doomed.sender.id,
  ifMatch: "0".repeat(32) }));
await cp.deleteSender({ senderId: doomed.sender.id, ifMatch: doomed.etag });
const deleted = await refused(() => cp.getSender({ senderId: doomed.sender.id }));
// the domain as its create answered (CREATING, etag, Location), as a GET
// shows it now, an update with the create's (stale) etag and with the
// current one
const gotDomain = await cp.getEmailDomain({ emailDomainId: domain.emailDomain.id });
const staleUpdate = await refused(() => cp.updateEmailDomain({
  emailDomainId: domain.emailDomain.id, ifMatch: domain.etag,
  updateEmailDomainDetails: { description: "stale" } }));
const update = await cp.updateEmailDomain({ emailDomainId: domain.emailDomain.id,
  ifMatch: gotDomain.etag, updateEmailDomainDetails: { description: "updated by the SDK" } });
const updateWr = await waiters.forWorkRequest({ workRequestId: update.opcWorkRequestId });
const updated = await cp.getEmailDomain({ emailDomainId: domain.emailDomain.id });
const gotDkim = await cp.getDkim({ dkimId: dkim.dkim.id });
const conf = await cp.getEmailConfiguration({ compartmentId: env.PH_TENANCY });
console.log(JSON.stringify({
  sender: got.sender, suppression: supp.suppression,
  submit: submit.emailSubmittedResponse, raw: raw.emailRawSubmittedResponse,
  requestId: submit.opcRequestId, domain: domain.emailDomain, domainWr: domainWr.workRequest,
  dkim: dkim.dkim, dkimWr: dkimWr.workRequest, dkims: dkims.dkimCollection.items,
  etags: { createSender: sender.etag, getSender: got.etag, createDkim: dkim.etag,
    getDkim: gotDkim.etag, createDomain: domain.etag, getDomain: gotDomain.etag,
    updatedDomain: updated.etag },
  wrongEtag, deleted, staleUpdate, updateWr: updateWr.workRequest,
  domainCreated: { location: domain.location, contentLocation: domain.contentLocation,
    state: domain.emailDomain.lifecycleState },
  domainNow: { state: gotDomain.emailDomain.lifecycleState,
    description: updated.emailDomain.description },
  configuration: conf.configuration, rawId }));

// submitRawEmail's messageId as the model and submitEmail have it: the
// message's own Message-ID, bare
const mid = raw.emailRawSubmittedResponse.messageId;
if (mid !== rawId) {
  console.error(`submitRawEmail messageId ${JSON.stringify(mid)}, want ${JSON.stringify(rawId)} ` +
      "(no leading space, no angle brackets)");
  process.exit(1);
}
