// oci_sdk.mjs - the real OCI TypeScript SDK (npm oci-email, oci-emaildataplane,
// oci-common, pinned in tests/package.json) against ph-httpd, unchanged but for
// the endpoint. Driven by test_https.py through the environment:
//   PH_ENDPOINT (https://127.0.0.1:PORT), PH_TENANCY, PH_USER, PH_FINGERPRINT,
//   PH_KEY_FILE, PH_COMPARTMENT, PH_TEST_ID, PH_WORKDIR; NODE_EXTRA_CA_CERTS
//   trusts the stack's self-signed certificate.
// It writes an OCI config file, creates an approved sender and a suppression,
// submits one message with submitEmail and one with submitRawEmail, creates an
// email domain and a DKIM key (waiting on their work requests with the SDK's
// waiter), and prints one JSON line with what the service answered.
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
const rawText = Buffer.from(`From: ${sender.sender.emailAddress}\r\nTo: sdk-ok@dest.test\r\n` +
    `Subject: sdk raw ${tid}\r\nX-Test-Id: ${tid}\r\n\r\nraw from the OCI SDK\r\n`);
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
console.log(JSON.stringify({
  sender: got.sender, suppression: supp.suppression,
  submit: submit.emailSubmittedResponse, raw: raw.emailRawSubmittedResponse,
  requestId: submit.opcRequestId, domain: domain.emailDomain, domainWr: domainWr.workRequest,
  dkim: dkim.dkim, dkimWr: dkimWr.workRequest, dkims: dkims.dkimCollection.items }));
