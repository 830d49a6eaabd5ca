export { composeMime, EmailCompositionError, type Address, type OutgoingEmail } from './compose';
export {
  createSesMailer,
  MailerError,
  toMailerError,
  type Mailer,
  type SesMailer,
  type SesMailerOptions,
} from './mailer';
export {
  greetingName,
  listUnsubscribeHeaders,
  REMINDER_PREFIX,
  renderInvitation,
  SCORE_LINK_NOTE,
  SUBJECT_MAX_LENGTH,
  UNSUBSCRIBE_TEXT,
  type InvitationInput,
  type RenderedEmail,
} from './invitation';
export { displayName, escapeHtml, oneLine, senderName } from './text';
export { createPacer, createSharedPacer, inSlot, type PaceOptions, type Pacer, type SharedPacer, type SlotHolder } from './paced';
