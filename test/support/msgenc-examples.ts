// The MSGENC-XML-M-1-10 request of KMIP Additional Message Encodings v1.0 §7.1.1 (TIME 0, lines
// 0001–0017): the spec prints its XML and its binary TTLV side by side, so tests can check the
// encoders against bytes that did not come from our own code.

export const QUERY_REQUEST_XML = `<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="1"/>
      <ProtocolVersionMinor type="Integer" value="0"/>
    </ProtocolVersion>
    <MaximumResponseSize type="Integer" value="256"/>
    <BatchCount type="Integer" value="1"/>
  </RequestHeader>
  <BatchItem>
    <Operation type="Enumeration" value="Query"/>
    <RequestPayload>
      <QueryFunction type="Enumeration" value="QueryOperations"/>
      <QueryFunction type="Enumeration" value="QueryObjects"/>
    </RequestPayload>
  </BatchItem>
</RequestMessage>`;

/** The same request as hex, in the spec's line breaks (join them to get one string). */
export const QUERY_REQUEST_HEX_LINES: readonly string[] = [
  '42007801000000904200770100000048420069010000002042006a02000000040000000100000000',
  '42006b020000000400000000000000004200500200000004000001000000000042000d0200000004',
  '000000010000000042000f010000003842005c050000000400000018000000004200790100000020',
  '4200740500000004000000010000000042007405000000040000000200000000',
];
