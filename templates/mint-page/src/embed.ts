import { AigcMint } from './element';

// One definition per page, even when the snippet is pasted twice.
if (!customElements.get('aigc-mint')) customElements.define('aigc-mint', AigcMint);
