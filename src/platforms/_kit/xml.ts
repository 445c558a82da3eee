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

/** CDATA sections and comments: text, in which `<!DOCTYPE` is a user's words, not markup. */
const CDATA_OR_COMMENT = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->/g;

/**
 * True when the text holds a DOCTYPE or ENTITY declaration as markup, which parseXmlSafely refuses.
 * Inside CDATA it is text (a message quoting HTML) and allowed.
 */
export function containsXmlDeclaration(text: string): boolean {
  return DECLARATION.test(text) && DECLARATION.test(text.replace(CDATA_OR_COMMENT, ''));
}

function refusal(reason: XmlRefusal, message: string): ImgateError {
  return new ImgateError('IMG_ERR_INBOUND_MALFORMED', { message, details: { reason } });
}
