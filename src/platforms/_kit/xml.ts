import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ImgateError } from '../../core/errors.ts';

/** A DTD is how XXE and entity-expansion attacks start; no platform we speak sends one. */
const DECLARATION = /<!\s*(?:DOCTYPE|ENTITY)/i;

export type XmlRefusal = 'declaration' | 'invalid';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  allowBooleanAttributes: true,
  // Values stay strings: ids such as <newmsgid> exceed 2^53 and would be rounded as numbers.
  parseTagValue: false,
  parseAttributeValue: false,
  // Only the five predefined entities; a DTD never reaches the parser.
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
});

/**
 * Parses platform XML, refusing any document type or entity declaration. Tag values and attributes
 * are strings (`@_name` for attributes); CDATA is merged into the text.
 * Throws IMG_ERR_INBOUND_MALFORMED with `details.reason` = `declaration` or `invalid`.
 */
export function parseXmlSafely(text: string): Record<string, unknown> {
  if (containsXmlDeclaration(text)) {
    throw refusal('declaration', 'XML with a DOCTYPE or ENTITY declaration is refused');
  }
  if (XMLValidator.validate(text, { allowBooleanAttributes: true }) !== true) {
    throw refusal('invalid', 'the XML is not well-formed');
  }
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch {
    throw refusal('invalid', 'the XML is not well-formed');
  }
}

/**
 * True when the text holds a DOCTYPE or ENTITY declaration as markup, which parseXmlSafely refuses.
 * Inside CDATA it is text (a message quoting HTML) and allowed.
 */
export function containsXmlDeclaration(text: string): boolean {
  return DECLARATION.test(text) && DECLARATION.test(withoutCdataAndComments(text));
}

/** CDATA sections and comments: text, in which `<!DOCTYPE` is a user's words, not markup. */
const SECTIONS = [
  { open: '<![CDATA[', close: ']]>' },
  { open: '<!--', close: '-->' },
] as const;

/**
 * The text without its CDATA sections and comments (an unclosed opener stays), in one pass. A
 * lazy pattern did the same but searched the rest of the text again from every unclosed opener:
 * a body of a hundred thousand `<![CDATA[` took a minute.
 */
function withoutCdataAndComments(text: string): string {
  // Where the next opener of each kind is; -1 once there is none, or once its closer is known absent.
  const next: number[] = SECTIONS.map((section) => text.indexOf(section.open));
  let out = '';
  let at = 0;
  for (;;) {
    let kind = -1;
    for (let k = 0; k < SECTIONS.length; k++) {
      if (next[k] !== -1 && (next[k] as number) < at) next[k] = text.indexOf(SECTIONS[k]!.open, at);
      if (next[k] !== -1 && (kind === -1 || (next[k] as number) < (next[kind] as number))) kind = k;
    }
    if (kind === -1) return out + text.slice(at);
    const section = SECTIONS[kind]!;
    const start = next[kind] as number;
    const end = text.indexOf(section.close, start + section.open.length);
    if (end === -1) {
      // No closer after this opener means none after any later one either.
      next[kind] = -1;
      continue;
    }
    out += text.slice(at, start);
    at = end + section.close.length;
  }
}

function refusal(reason: XmlRefusal, message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message, details: { reason } });
}
